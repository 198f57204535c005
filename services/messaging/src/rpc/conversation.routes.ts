import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { ConversationService } from '@parley/proto';
import type { MessagingDeps } from '../domain/messaging-deps.js';
import { openDirectConversation } from '../domain/open-direct-conversation.usecase.js';
import { toConversation } from './messages.js';

/** ConversationService: every handler authenticates, then calls one use case. */
export function conversationRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(ConversationService, {
      async openDirectConversation(req, ctx) {
        const { conversation, members, created } = await openDirectConversation(deps, requireCaller(ctx), req);
        return { conversation: toConversation(conversation, members), created };
      },
    });
}
