import type { MikroORM, Outbox } from '@parley/platform';
import type { Logger } from 'pino';
import type { AuthRateLimits } from './rate-limits.js';
import type { TokenIssuer } from './token-issuer.js';

/** What the auth use cases need from the wiring. */
export interface AuthDeps {
  orm: MikroORM;
  outbox: Outbox;
  issuer: TokenIssuer;
  log: Logger;
  limits: AuthRateLimits;
  bcryptCost: number;
  refreshTtlSeconds: number;
  passwordResetTtlSeconds: number;
  /** Logs password reset tokens, for development without a mailer. */
  devMode: boolean;
}
