import { RateLimiter, type ConfigOf, type MikroORM } from '@parley/platform';
import type { authConfigSchema } from '../config.js';

type AuthConfig = ConfigOf<typeof authConfigSchema>;

/** Every rate limit auth enforces, named once; sizes come from config (see config.ts for defaults). */
export interface AuthRateLimits {
  /** Failed password proofs (Login, ChangePassword) per normalised username, known or not. */
  loginFailuresPerAccount: RateLimiter;
  /** Failed logins per client address. */
  loginFailuresPerAddress: RateLimiter;
  /** RequestPasswordReset calls per normalised username, known or not. */
  passwordResetsPerAccount: RateLimiter;
  /** RequestPasswordReset calls per client address. */
  passwordResetsPerAddress: RateLimiter;
  /**
   * Passwords tried with link codes, per account: 5 at once, then one every 10 minutes. Anyone
   * holding a code may guess, so a code must not open a faster path to the password than Login.
   */
  linkPasswordsPerAccount: RateLimiter;
  /** SearchUsers calls per caller: SEARCH_REQUESTS_PER_MINUTE at once, refilled evenly over a minute. */
  searchUsersPerCaller: RateLimiter;
  /** Register calls per client address (an IPv6 address by its /64), taken before the password is hashed. */
  registrationsPerAddress: RateLimiter;
  /** SendContactRequest calls per caller. */
  contactRequestsPerCaller: RateLimiter;
}

export function authRateLimits(orm: MikroORM, config: AuthConfig): AuthRateLimits {
  const limit = (name: string, capacity: number, refillSeconds: number) =>
    new RateLimiter(orm, { name, capacity, refillPerSecond: 1 / refillSeconds });
  return {
    loginFailuresPerAccount: limit('login-failures-per-account', config.LOGIN_FAILURES_PER_ACCOUNT, config.LOGIN_FAILURES_PER_ACCOUNT_REFILL_SECONDS),
    loginFailuresPerAddress: limit('login-failures-per-address', config.LOGIN_FAILURES_PER_ADDRESS, config.LOGIN_FAILURES_PER_ADDRESS_REFILL_SECONDS),
    passwordResetsPerAccount: limit(
      'password-resets-per-account',
      config.PASSWORD_RESETS_PER_ACCOUNT,
      config.PASSWORD_RESETS_PER_ACCOUNT_REFILL_SECONDS,
    ),
    passwordResetsPerAddress: limit(
      'password-resets-per-address',
      config.PASSWORD_RESETS_PER_ADDRESS,
      config.PASSWORD_RESETS_PER_ADDRESS_REFILL_SECONDS,
    ),
    linkPasswordsPerAccount: limit('link-password-per-account', 5, 600),
    searchUsersPerCaller: limit('search-users-per-caller', config.SEARCH_REQUESTS_PER_MINUTE, 60 / config.SEARCH_REQUESTS_PER_MINUTE),
    registrationsPerAddress: limit('registrations-per-address', config.REGISTRATIONS_PER_ADDRESS, config.REGISTRATIONS_PER_ADDRESS_REFILL_SECONDS),
    contactRequestsPerCaller: limit(
      'contact-requests-per-caller',
      config.CONTACT_REQUESTS_PER_CALLER,
      config.CONTACT_REQUESTS_PER_CALLER_REFILL_SECONDS,
    ),
  };
}
