import type { MikroORM } from '@parley/platform';

/** What the messaging use cases need from the wiring. */
export interface MessagingDeps {
  orm: MikroORM;
}
