import type { MikroORM, Outbox, RateLimiter } from '@parley/platform';
import type { IdentityLog } from './identity-log.js';

/** What the keys use cases need from the wiring. */
export interface KeysDeps {
  orm: MikroORM;
  outbox: Outbox;
  log: IdentityLog;
  limits: KeyLimits;
  /** GetPreKeyBundles per (requester, target user). */
  claimsPerTarget: RateLimiter;
}

export interface KeyLimits {
  /** Most one-time prekeys of each kind per upload. */
  maxPreKeysPerUpload: number;
  /** Most one-time prekeys of each kind stored per device. */
  maxStoredPreKeys: number;
  /** keys.pre_keys.ran_low fires once when either count falls below this. */
  lowWaterMark: number;
}
