import { rpcError, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { ConversationMemberSchema, ConversationSchema } from './conversation.entity.js';
import { requireGroup } from './group-rules.js';
import { requireMember } from './membership.js';
import { membershipChanged } from './notices.js';
import { publishMembersChanged } from '../events/members-changed.js';

/** The caller leaves. The owner must hand the group on first, unless they are its last member: then it is deleted. */
export async function leaveGroup(deps: MessagingDeps, caller: Caller, input: { conversationId: string }): Promise<void> {
  const signal = await deps.orm.em.fork().transactional(async (em) => {
    const { conversation, member } = await requireMember(em, input.conversationId, caller.userId, { lock: true });
    requireGroup(conversation);
    const others = await em.count(ConversationMemberSchema, { conversation, userId: { $ne: caller.userId } });
    if (member.role === 'owner' && others > 0) throw rpcError.failedPrecondition('the owner must transfer ownership before leaving');
    em.remove(member);
    await publishMembersChanged(em, deps.outbox, conversation.id);
    // The leaver's devices hear of it too, so every one of them drops the group.
    const signal = await membershipChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, conversation.id, [caller.userId]);
    if (others === 0) await em.nativeDelete(ConversationSchema, { id: conversation.id });
    return signal;
  });
  deps.live.delivered(signal);
}
