import type { ConfigOf, MikroORM } from '@parley/platform';
import type { messagingConfigSchema } from '../config.js';
import type { LiveSignals } from '../events/live-signals.js';

/** What the messaging use cases need from the wiring. */
export interface MessagingDeps {
  orm: MikroORM;
  live: LiveSignals;
  config: ConfigOf<typeof messagingConfigSchema>;
}
