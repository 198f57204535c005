import { randomBytes } from 'node:crypto';

/** FRANKING_KEYS and FRANKING_ACTIVE_KEY_ID, as messaging and moderation both read them. */
export interface FrankingKeyringEnv {
  FRANKING_KEYS: string;
  FRANKING_ACTIVE_KEY_ID: string;
}

/** A fresh keyring of one 32-byte server franking key, for one stack. */
export function newFrankingKeyring(): FrankingKeyringEnv {
  const id = `dev-${randomBytes(4).toString('hex')}`;
  return { FRANKING_KEYS: `${id}:${randomBytes(32).toString('base64')}`, FRANKING_ACTIVE_KEY_ID: id };
}
