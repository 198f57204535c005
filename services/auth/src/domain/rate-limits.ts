import type { RateLimitPolicy } from '@parley/platform';

/** Every rate limit auth applies, named once; the numbers come from config. */
export const rateLimits = {
  /** A caller may search this many times at once, refilled evenly over a minute. */
  searchUsers: (perMinute: number): RateLimitPolicy => ({
    name: 'search-users-per-caller',
    capacity: perMinute,
    refillPerSecond: perMinute / 60,
  }),
};
