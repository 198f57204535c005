import { runService, sanctionStandingConsumer } from '@parley/platform';
import { ConversationService, DeliveryInternalService, MessageService, StorageService } from '@parley/proto';
import { messagingConfigSchema } from './config.js';
import { database } from './database.js';
import { buildMessagingDeps } from './deps.js';
import { ExpirySweeper } from './domain/expiry-sweeper.js';
import { accountDeletedConsumer } from './events/consumers/account-deleted.consumer.js';
import { contactAddedConsumer } from './events/consumers/contact-added.consumer.js';
import { contactRemovedConsumer } from './events/consumers/contact-removed.consumer.js';
import { deviceAddedConsumer } from './events/consumers/device-added.consumer.js';
import { deviceRevokedConsumer } from './events/consumers/device-revoked.consumer.js';
import { identityKeyChangedConsumer } from './events/consumers/identity-key-changed.consumer.js';
import { preKeysLowConsumer } from './events/consumers/pre-keys-low.consumer.js';
import { privacyChangedConsumer } from './events/consumers/privacy-changed.consumer.js';
import { userBlockedConsumer } from './events/consumers/user-blocked.consumer.js';
import { userRegisteredConsumer } from './events/consumers/user-registered.consumer.js';
import { userUnblockedConsumer } from './events/consumers/user-unblocked.consumer.js';
import { conversationRoutes } from './rpc/conversation.routes.js';
import { deliveryInternalRoutes } from './rpc/delivery-internal.routes.js';
import { messageRoutes } from './rpc/message.routes.js';
import { storageRoutes } from './rpc/storage.routes.js';

void runService({
  name: 'messaging',
  config: messagingConfigSchema,
  database,
  bus: true,
  services: [ConversationService.typeName, MessageService.typeName, DeliveryInternalService.typeName, StorageService.typeName],
  init: buildMessagingDeps,
  tokens: 'remote',
  routes: (deps) => [conversationRoutes(deps), messageRoutes(deps), deliveryInternalRoutes(deps), storageRoutes(deps)],
  consumers: (deps) => [
    userRegisteredConsumer,
    deviceAddedConsumer(deps),
    deviceRevokedConsumer(deps),
    userBlockedConsumer,
    userUnblockedConsumer,
    contactAddedConsumer,
    contactRemovedConsumer,
    privacyChangedConsumer,
    accountDeletedConsumer(deps),
    identityKeyChangedConsumer(deps),
    preKeysLowConsumer(deps),
    // Sends and new conversations are checked against the standings it keeps.
    sanctionStandingConsumer(),
  ],
  async start({ orm, log, settings }) {
    const sweeper = new ExpirySweeper(orm, { intervalSeconds: settings.expirySweepSeconds, retractWindowSeconds: settings.retractWindowSeconds }, log);
    sweeper.start();
    return { close: () => sweeper.stop() };
  },
});
