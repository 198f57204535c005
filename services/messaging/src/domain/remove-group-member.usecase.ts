import { canonicalUuid, rpcError, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { requireGroup, requireRole, requireTargetMember } from './group-rules.js';
import { requireMember } from './membership.js';
import { membershipChanged } from './notices.js';
import { publishMembersChanged } from '../events/members-changed.js';

/** Removes a member: the owner may remove anyone else, an admin only plain members. */
export async function removeGroupMember(deps: MessagingDeps, caller: Caller, input: { conversationId: string; userId: string }): Promise<ConversationView> {
  const userId = canonicalUuid(input.userId);
  if (userId === caller.userId) throw rpcError.invalidArgument('to remove yourself, leave the group');
  const { view, signal } = await deps.orm.em.fork().transactional(async (em) => {
    const { conversation, member } = await requireMember(em, input.conversationId, caller.userId, { lock: true });
    requireGroup(conversation);
    requireRole(member, ['owner', 'admin'], 'remove members');
    const target = await requireTargetMember(em, conversation, userId);
    if (member.role === 'admin' && target.role !== 'member') throw rpcError.permissionDenied('an admin may remove only plain members');
    em.remove(target);
    await publishMembersChanged(em, deps.outbox, conversation.id);
    const view = await loadConversationView(em, conversation, caller.userId);
    return { view, signal: await membershipChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, conversation.id, [userId]) };
  });
  deps.live.delivered(signal);
  return view;
}
