import { runService, sanctionStandingConsumer } from '@parley/platform';
import { KeyService } from '@parley/proto';
import { keysConfigSchema } from './config.js';
import { database } from './database.js';
import { buildKeysDeps } from './deps.js';
import { accountDeletedConsumer } from './events/consumers/account-deleted.consumer.js';
import { deviceAddedConsumer } from './events/consumers/device-added.consumer.js';
import { deviceRevokedConsumer } from './events/consumers/device-revoked.consumer.js';
import { userBlockedConsumer } from './events/consumers/user-blocked.consumer.js';
import { userUnblockedConsumer } from './events/consumers/user-unblocked.consumer.js';
import { keysRoutes } from './rpc/keys.routes.js';

void runService({
  name: 'keys',
  config: keysConfigSchema,
  database,
  bus: true,
  services: [KeyService.typeName],
  init: buildKeysDeps,
  tokens: 'remote',
  routes: (deps) => [keysRoutes(deps)],
  // Claims of a banned user's bundles are checked against the standings sanctionStandingConsumer keeps.
  consumers: () => [deviceAddedConsumer, deviceRevokedConsumer, userBlockedConsumer, userUnblockedConsumer, accountDeletedConsumer, sanctionStandingConsumer()],
});
