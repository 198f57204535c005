import type { ConnectRouter } from '@connectrpc/connect';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { requireCaller } from '@parley/platform';
import { ConversationService } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { addGroupMembers } from '../domain/add-group-members.usecase.js';
import { createGroup } from '../domain/create-group.usecase.js';
import { getConversation } from '../domain/get-conversation.usecase.js';
import { leaveGroup } from '../domain/leave-group.usecase.js';
import { listConversations } from '../domain/list-conversations.usecase.js';
import { openDirectConversation } from '../domain/open-direct-conversation.usecase.js';
import { removeGroupMember } from '../domain/remove-group-member.usecase.js';
import { setGroupMemberRole } from '../domain/set-group-member-role.usecase.js';
import { transferGroupOwnership } from '../domain/transfer-group-ownership.usecase.js';
import { updateGroupInfo } from '../domain/update-group-info.usecase.js';
import { updateMemberSettings } from '../domain/update-member-settings.usecase.js';
import { toConversation } from './messages.js';

/** ConversationService: every handler authenticates, then calls one use case. */
export function conversationRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(ConversationService, {
      async openDirectConversation(req, ctx) {
        const caller = requireCaller(ctx);
        const { conversation, members, created } = await openDirectConversation(deps, caller, req);
        return { conversation: toConversation({ conversation, members, callerId: caller.userId }), created };
      },
      async createGroup(req, ctx) {
        return { conversation: toConversation(await createGroup(deps, requireCaller(ctx), req)) };
      },
      async getConversation(req, ctx) {
        return { conversation: toConversation(await getConversation(deps, requireCaller(ctx), req)) };
      },
      async listConversations(req, ctx) {
        const { conversations, nextPageToken } = await listConversations(deps, requireCaller(ctx), req);
        return { conversations: conversations.map(toConversation), nextPageToken };
      },
      async addMembers(req, ctx) {
        return { conversation: toConversation(await addGroupMembers(deps, requireCaller(ctx), req)) };
      },
      async removeMember(req, ctx) {
        return { conversation: toConversation(await removeGroupMember(deps, requireCaller(ctx), req)) };
      },
      async leaveGroup(req, ctx) {
        await leaveGroup(deps, requireCaller(ctx), req);
        return {};
      },
      async setMemberRole(req, ctx) {
        return { conversation: toConversation(await setGroupMemberRole(deps, requireCaller(ctx), req)) };
      },
      async transferOwnership(req, ctx) {
        return { conversation: toConversation(await transferGroupOwnership(deps, requireCaller(ctx), req)) };
      },
      async updateGroupInfo(req, ctx) {
        return { conversation: toConversation(await updateGroupInfo(deps, requireCaller(ctx), req)) };
      },
      async updateMemberSettings(req, ctx) {
        const caller = requireCaller(ctx);
        const mutedUntil = req.mutedUntil ? timestampDate(req.mutedUntil) : undefined;
        return { conversation: toConversation(await updateMemberSettings(deps, caller, { conversationId: req.conversationId, archived: req.archived, mutedUntil })) };
      },
    });
}
