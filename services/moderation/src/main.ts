import { runService } from '@parley/platform';
import { database } from './database.js';
import { buildModerationDeps } from './deps.js';

// No RPCs yet: the process owns its database and bus wiring and reports health.
void runService({
  name: 'moderation',
  config: {},
  database,
  bus: true,
  services: [],
  init: buildModerationDeps,
  tokens: 'remote',
  routes: () => [],
});
