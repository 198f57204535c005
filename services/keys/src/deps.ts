import { cryptoReady } from '@parley/crypto';
import { SanctionStandings, type ConfigOf, type MikroORM, type Outbox, type ServiceContext, type SqlPool } from '@parley/platform';
import type { keysConfigSchema } from './config.js';
import { PreKeyClaims } from './domain/get-pre-key-bundles.usecase.js';
import { IdentityLog } from './domain/identity-log.js';
import { keysRateLimits, type KeysRateLimits } from './domain/rate-limits.js';

/** What keys' routes and use cases are built from: made once, in `init`. */
export interface KeysDeps {
  orm: MikroORM;
  /** Plain SQL for the claim path. */
  sql: SqlPool;
  outbox: Outbox;
  identityLog: IdentityLog;
  preKeyClaims: PreKeyClaims;
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

export async function buildKeysDeps({ orm, sql, outbox, config }: ServiceContext<ConfigOf<typeof keysConfigSchema>>): Promise<KeysDeps> {
  await cryptoReady();
  const identityLog = IdentityLog.fromConfig(config.KEYS_LOG_SIGNING_KEY);
  const rateLimits = keysRateLimits(orm, config);
  return {
    orm,
    sql,
    outbox,
    identityLog,
    preKeyClaims: new PreKeyClaims({
      sql,
      orm,
      outbox,
      identityLog,
      limiter: rateLimits.claimsPerTarget,
      requesterLimiter: rateLimits.claimsPerRequester,
      lowWaterMark: config.PREKEY_LOW_WATER_MARK,
      sanctions: new SanctionStandings(sql),
    }),
    rateLimits,
    settings: {
      maxPreKeysPerUpload: config.MAX_PRE_KEYS_PER_UPLOAD,
      maxStoredPreKeys: config.MAX_STORED_PRE_KEYS,
      lowWaterMark: config.PREKEY_LOW_WATER_MARK,
    },
  };
}
