import { runService } from '@parley/platform';
import { ConversationService, DeliveryInternalService, MessageService, StorageService } from '@parley/proto';
import { messagingConfigSchema } from './config.js';
import { database } from './database.js';
import { ExpirySweeper } from './domain/expiry-sweeper.js';
import type { MessagingDeps } from './domain/messaging-deps.js';
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
import { LiveSignals } from './events/live-signals.js';
import { conversationRoutes } from './rpc/conversation.routes.js';
import { deliveryInternalRoutes } from './rpc/delivery-internal.routes.js';
import { messageRoutes } from './rpc/message.routes.js';
import { storageRoutes } from './rpc/storage.routes.js';

void runService({
  name: 'messaging',
  config: messagingConfigSchema,
  database,
  bus: {
    consumers: (deps: MessagingDeps) => [
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
    ],
  },
  async init({ orm, config, nats, subjects }) {
    const live = new LiveSignals(nats, subjects);
    // Signals this process published just before it last stopped may be lost: streams refetch.
    live.resync();
    return { orm, config, live };
  },
  services: [ConversationService.typeName, MessageService.typeName, DeliveryInternalService.typeName, StorageService.typeName],
  tokens: 'remote',
  routes: (_ctx, deps) => [conversationRoutes(deps), messageRoutes(deps), deliveryInternalRoutes(deps), storageRoutes(deps)],
  async start({ orm, config, log }) {
    const sweeper = new ExpirySweeper(orm, config.EXPIRY_SWEEP_SECONDS, log);
    sweeper.start();
    return { close: () => sweeper.stop() };
  },
});
