import { RateLimiter, type ConfigOf, type MikroORM } from '@parley/platform';
import type { mediaConfigSchema } from '../config.js';

/** Every rate limit media enforces, named once; sizes come from config (see config.ts for defaults). */
export interface MediaRateLimits {
  /** Upload creations per user. */
  uploadCreations: RateLimiter;
}

export function mediaRateLimits(orm: MikroORM, config: ConfigOf<typeof mediaConfigSchema>): MediaRateLimits {
  return {
    uploadCreations: new RateLimiter(orm, {
      name: 'media-upload-creations',
      capacity: config.MEDIA_UPLOAD_CREATIONS_PER_MINUTE,
      refillPerSecond: config.MEDIA_UPLOAD_CREATIONS_PER_MINUTE / 60,
    }),
  };
}
