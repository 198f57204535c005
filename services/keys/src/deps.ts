import { cryptoReady } from '@parley/crypto';
import type { ConfigOf, MikroORM, Outbox, ServiceContext } from '@parley/platform';
import type { keysConfigSchema } from './config.js';
import { IdentityLog } from './domain/identity-log.js';
import { keysRateLimits, type KeysRateLimits } from './domain/rate-limits.js';

/** What keys' routes and use cases are built from: made once, in `init`. */
export interface KeysDeps {
  orm: MikroORM;
  outbox: Outbox;
  identityLog: IdentityLog;
  rateLimits: KeysRateLimits;
  settings: KeysSettings;
}

export interface KeysSettings {
  /** Most one-time prekeys of each kind per upload. */
  maxPreKeysPerUpload: number;
  /** Most one-time prekeys of each kind stored per device. */
  maxStoredPreKeys: number;
  /** keys.pre_keys.ran_low fires once when either count falls below this. */
  lowWaterMark: number;
}

export async function buildKeysDeps({ orm, outbox, config }: ServiceContext<ConfigOf<typeof keysConfigSchema>>): Promise<KeysDeps> {
  await cryptoReady();
  return {
    orm,
    outbox,
    identityLog: IdentityLog.fromConfig(config.KEYS_LOG_SIGNING_KEY),
    rateLimits: keysRateLimits(orm, config),
    settings: {
      maxPreKeysPerUpload: config.MAX_PRE_KEYS_PER_UPLOAD,
      maxStoredPreKeys: config.MAX_STORED_PRE_KEYS,
      lowWaterMark: config.PREKEY_LOW_WATER_MARK,
    },
  };
}
