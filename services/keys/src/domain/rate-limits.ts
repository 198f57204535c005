import { RateLimiter, type ConfigOf, type MikroORM } from '@parley/platform';
import type { keysConfigSchema } from '../config.js';

/** GetPreKeyBundles per (requester, target user); sizes from config (see config.ts for defaults). */
export function claimsPerTargetLimiter(orm: MikroORM, config: ConfigOf<typeof keysConfigSchema>): RateLimiter {
  return new RateLimiter(orm, {
    name: 'prekey-claims-per-target',
    capacity: config.PREKEY_CLAIMS_PER_TARGET,
    refillPerSecond: 1 / config.PREKEY_CLAIMS_PER_TARGET_REFILL_SECONDS,
  });
}
