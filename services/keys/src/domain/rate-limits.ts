import { RateLimiter, type ConfigOf, type MikroORM } from '@parley/platform';
import type { keysConfigSchema } from '../config.js';

/** Every rate limit keys enforces, named once; sizes come from config (see config.ts for defaults). */
export interface KeysRateLimits {
  /** GetPreKeyBundles per (requester, target user). */
  claimsPerTarget: RateLimiter;
}

export function keysRateLimits(orm: MikroORM, config: ConfigOf<typeof keysConfigSchema>): KeysRateLimits {
  return {
    claimsPerTarget: new RateLimiter(orm, {
      name: 'prekey-claims-per-target',
      capacity: config.PREKEY_CLAIMS_PER_TARGET,
      refillPerSecond: 1 / config.PREKEY_CLAIMS_PER_TARGET_REFILL_SECONDS,
    }),
  };
}
