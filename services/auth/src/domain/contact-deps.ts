import type { MikroORM, Outbox, RateLimiter } from '@parley/platform';

/** What the contact use cases need from the wiring. */
export interface ContactDeps {
  orm: MikroORM;
  outbox: Outbox;
  searchLimiter: RateLimiter;
}
