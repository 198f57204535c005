import type { RateLimitPolicy } from '@parley/platform';

/** Every rate limit auth enforces, with its budget. */
export const rateLimits = {
  /**
   * Passwords tried with link codes, per account: 5 at once, then one every 10 minutes. Anyone
   * holding a code may guess, so a code must not open a faster path to the password than Login.
   */
  linkPasswordPerAccount: { name: 'link-password-per-account', capacity: 5, refillPerSecond: 1 / 600 },
} satisfies Record<string, RateLimitPolicy>;
