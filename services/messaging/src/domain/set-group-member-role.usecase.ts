import { canonicalUuid, rpcError, type Caller } from '@parley/platform';
import { MemberRole } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { requireGroup, requireRole, requireTargetMember } from './group-rules.js';
import { requireMember } from './membership.js';
import { membershipChanged } from './notices.js';

const settable = { [MemberRole.ADMIN]: 'admin', [MemberRole.MEMBER]: 'member' } as const;

/** Makes a member an admin or a plain member again (owner only). */
export async function setGroupMemberRole(deps: MessagingDeps, caller: Caller, input: { conversationId: string; userId: string; role: MemberRole }): Promise<ConversationView> {
  const userId = canonicalUuid(input.userId);
  // The contract admits ADMIN and MEMBER only.
  const role = settable[input.role as keyof typeof settable];
  if (userId === caller.userId) throw rpcError.invalidArgument("you can't change your own role: transfer ownership instead");
  const { view, signal } = await deps.orm.em.fork().transactional(async (em) => {
    const { conversation, member } = await requireMember(em, input.conversationId, caller.userId, { lock: true });
    requireGroup(conversation);
    requireRole(member, ['owner'], 'change roles');
    const target = await requireTargetMember(em, conversation, userId);
    const changed = target.role !== role;
    target.role = role;
    const view = await loadConversationView(em, conversation, caller.userId);
    return { view, signal: changed ? await membershipChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, conversation.id) : [] };
  });
  deps.live.delivered(signal);
  return view;
}
