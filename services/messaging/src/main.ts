import { runService } from '@parley/platform';
import { ConversationService } from '@parley/proto';
import { database } from './database.js';
import { accountDeletedConsumer } from './events/consumers/account-deleted.consumer.js';
import { contactAddedConsumer } from './events/consumers/contact-added.consumer.js';
import { contactRemovedConsumer } from './events/consumers/contact-removed.consumer.js';
import { deviceAddedConsumer } from './events/consumers/device-added.consumer.js';
import { deviceRevokedConsumer } from './events/consumers/device-revoked.consumer.js';
import { privacyChangedConsumer } from './events/consumers/privacy-changed.consumer.js';
import { userBlockedConsumer } from './events/consumers/user-blocked.consumer.js';
import { userRegisteredConsumer } from './events/consumers/user-registered.consumer.js';
import { userUnblockedConsumer } from './events/consumers/user-unblocked.consumer.js';
import { conversationRoutes } from './rpc/conversation.routes.js';

void runService({
  name: 'messaging',
  config: {},
  database,
  bus: {
    consumers: [
      userRegisteredConsumer,
      deviceAddedConsumer,
      deviceRevokedConsumer,
      userBlockedConsumer,
      userUnblockedConsumer,
      contactAddedConsumer,
      contactRemovedConsumer,
      privacyChangedConsumer,
      accountDeletedConsumer,
    ],
  },
  services: [ConversationService.typeName],
  tokens: 'remote',
  routes: ({ orm }) => [conversationRoutes({ orm })],
});
