import { RateLimiter, type Clock, type ConfigOf, type MikroORM } from '@parley/platform';
import type { mediaConfigSchema } from '../config.js';

/** Every rate limit media enforces, named once; sizes come from config (see config.ts for defaults). */
export interface MediaRateLimits {
  /** Upload creations per user. */
  uploadCreations: RateLimiter;
}

/** `clock` is for tests; services use PostgreSQL's time, one clock for every replica. */
export function mediaRateLimits(orm: MikroORM, config: Pick<ConfigOf<typeof mediaConfigSchema>, 'MEDIA_UPLOAD_CREATIONS_PER_MINUTE'>, clock?: Clock): MediaRateLimits {
  return {
    uploadCreations: new RateLimiter(orm, {
      name: 'media-upload-creations',
      capacity: config.MEDIA_UPLOAD_CREATIONS_PER_MINUTE,
      refillPerSecond: config.MEDIA_UPLOAD_CREATIONS_PER_MINUTE / 60,
    }, clock),
  };
}
