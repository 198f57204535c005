import { runService } from '@parley/platform';
import { ModerationInternalService, ModerationService, ModeratorService } from '@parley/proto';
import { moderationConfigSchema } from './config.js';
import { database } from './database.js';
import { buildModerationDeps } from './deps.js';
import { ensureFirstAdmin } from './domain/roles.js';
import { startSweeper } from './domain/sweeper.js';
import { accountDeletedConsumer } from './events/consumers/account-deleted.consumer.js';
import { contactAddedConsumer, contactRemovedConsumer } from './events/consumers/contact-changed.consumer.js';
import { conversationMembersChangedConsumer } from './events/consumers/conversation-members-changed.consumer.js';
import { messageSentConsumer } from './events/consumers/message-sent.consumer.js';
import { userBlockedConsumer } from './events/consumers/user-blocked.consumer.js';
import { userRegisteredConsumer } from './events/consumers/user-registered.consumer.js';
import { moderationInternalRoutes } from './rpc/moderation-internal.routes.js';
import { moderationRoutes } from './rpc/moderation.routes.js';
import { moderatorRoutes } from './rpc/moderator.routes.js';

void runService({
  name: 'moderation',
  config: moderationConfigSchema,
  database,
  bus: true,
  services: [ModerationService.typeName, ModeratorService.typeName, ModerationInternalService.typeName],
  init: buildModerationDeps,
  tokens: 'remote',
  routes: (deps) => [moderationRoutes(deps), moderatorRoutes(deps), moderationInternalRoutes(deps)],
  consumers: (deps) => [
    userRegisteredConsumer,
    accountDeletedConsumer,
    conversationMembersChangedConsumer,
    contactAddedConsumer,
    contactRemovedConsumer,
    userBlockedConsumer(deps),
    messageSentConsumer(deps),
  ],
  async start(deps) {
    await ensureFirstAdmin(deps);
    const sweeper = startSweeper(deps);
    return {
      async close() {
        sweeper.stop();
      },
    };
  },
});
