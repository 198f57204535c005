import { runService } from '@parley/platform';
import { database } from './database.js';
import { userRegisteredConsumer } from './events/consumers/user-registered.consumer.js';

void runService({
  name: 'messaging',
  config: {},
  database,
  bus: { consumers: [userRegisteredConsumer] },
  services: [],
  tokens: 'remote',
  routes: () => [],
});
