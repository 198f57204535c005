import type { RateLimiter } from '@parley/platform';
import type { AuthDeps } from './auth-deps.js';

/** What the device and linking use cases need beyond the other auth use cases. */
export interface DeviceDeps extends AuthDeps {
  maxDevicesPerAccount: number;
  linkCodeTtlSeconds: number;
  /** Counts every password tried with a link code, per account. */
  linkPasswordLimiter: RateLimiter;
}
