import type { MikroORM, Outbox } from '@parley/platform';
import type { Logger } from 'pino';
import type { TokenIssuer } from './token-issuer.js';

/** What the auth use cases need from the wiring. */
export interface AuthDeps {
  orm: MikroORM;
  outbox: Outbox;
  issuer: TokenIssuer;
  log: Logger;
  bcryptCost: number;
  refreshTtlSeconds: number;
}
