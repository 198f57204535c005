import { runService } from '@parley/platform';
import { database } from './database.js';
import { buildMediaDeps } from './deps.js';

// No RPCs yet: the process owns its database and bus wiring and reports health.
void runService({
  name: 'media',
  config: {},
  database,
  bus: true,
  services: [],
  init: buildMediaDeps,
  tokens: 'remote',
  routes: () => [],
});
