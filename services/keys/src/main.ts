import { cryptoReady } from '@parley/crypto';
import { runService } from '@parley/platform';
import { KeyService } from '@parley/proto';
import { keysConfigSchema } from './config.js';
import { database } from './database.js';
import { IdentityLog } from './domain/identity-log.js';
import { claimsPerTargetLimiter } from './domain/rate-limits.js';
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
  bus: { consumers: [deviceAddedConsumer, deviceRevokedConsumer, userBlockedConsumer, userUnblockedConsumer, accountDeletedConsumer] },
  services: [KeyService.typeName],
  tokens: 'remote',
  init: async ({ config }) => {
    await cryptoReady();
    return IdentityLog.fromConfig(config.KEYS_LOG_SIGNING_KEY);
  },
  routes: ({ orm, outbox, config }, log) => [
    keysRoutes({
      orm,
      outbox,
      log,
      limits: {
        maxPreKeysPerUpload: config.MAX_PRE_KEYS_PER_UPLOAD,
        maxStoredPreKeys: config.MAX_STORED_PRE_KEYS,
        lowWaterMark: config.PREKEY_LOW_WATER_MARK,
      },
      claimsPerTarget: claimsPerTargetLimiter(orm, config),
    }),
  ],
});
