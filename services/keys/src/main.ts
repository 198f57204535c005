import { runService } from '@parley/platform';
import { database } from './database.js';

// No RPCs yet: the process owns its database and bus wiring and reports health.
void runService({
  name: 'keys',
  config: {},
  database,
  bus: { consumers: [] },
  services: [],
  tokens: 'remote',
  routes: () => [],
});
