import { canonicalUuid, rpcError, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { requireGroup, requireRole, requireTargetMember } from './group-rules.js';
import { requireMember } from './membership.js';
import { membershipChanged } from './notices.js';

/** Makes another member the owner (owner only); the old owner stays on as an admin. */
export async function transferGroupOwnership(deps: MessagingDeps, caller: Caller, input: { conversationId: string; newOwnerUserId: string }): Promise<ConversationView> {
  const newOwnerId = canonicalUuid(input.newOwnerUserId);
  if (newOwnerId === caller.userId) throw rpcError.invalidArgument('you already own this group');
  const { view, signal } = await deps.orm.em.fork().transactional(async (em) => {
    const { conversation, member } = await requireMember(em, input.conversationId, caller.userId, { lock: true });
    requireGroup(conversation);
    requireRole(member, ['owner'], 'transfer ownership');
    const target = await requireTargetMember(em, conversation, newOwnerId);
    target.role = 'owner';
    member.role = 'admin';
    const view = await loadConversationView(em, conversation, caller.userId);
    return { view, signal: await membershipChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, conversation.id) };
  });
  deps.live.delivered(signal);
  return view;
}
