import { parseFrankingKeyring } from '@parley/crypto';
import { newFrankingKeyring } from '../src/franking-keyring.js';

describe('newFrankingKeyring', () => {
  it('makes a keyring messaging and moderation accept: one 32-byte key, active', () => {
    const env = newFrankingKeyring();
    const keyring = parseFrankingKeyring(env.FRANKING_KEYS, env.FRANKING_ACTIVE_KEY_ID);
    expect([...keyring.keys.keys()]).toEqual([env.FRANKING_ACTIVE_KEY_ID]);
    expect(keyring.keys.get(env.FRANKING_ACTIVE_KEY_ID)).toHaveLength(32);
  });

  it('makes a different key, under a different id, for each stack', () => {
    const [a, b] = [newFrankingKeyring(), newFrankingKeyring()];
    expect(a.FRANKING_ACTIVE_KEY_ID).not.toBe(b.FRANKING_ACTIVE_KEY_ID);
    expect(a.FRANKING_KEYS.split(':')[1]).not.toBe(b.FRANKING_KEYS.split(':')[1]);
  });
});
