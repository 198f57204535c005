import { RateLimiter, type Clock, type ConfigOf, type MikroORM } from '@parley/platform';
import type { moderationConfigSchema } from '../config.js';

/** Every rate limit moderation enforces, named once; sizes come from config (see config.ts for defaults). */
export interface ModerationRateLimits {
  /** Reports filed per reporter. */
  reports: RateLimiter;
}

/** `clock` is for tests; services use PostgreSQL's time, one clock for every replica. */
export function moderationRateLimits(orm: MikroORM, config: Pick<ConfigOf<typeof moderationConfigSchema>, 'MODERATION_REPORTS_PER_HOUR'>, clock?: Clock): ModerationRateLimits {
  return {
    reports: new RateLimiter(orm, {
      name: 'moderation-reports',
      capacity: config.MODERATION_REPORTS_PER_HOUR,
      refillPerSecond: config.MODERATION_REPORTS_PER_HOUR / 3600,
    }, clock),
  };
}
