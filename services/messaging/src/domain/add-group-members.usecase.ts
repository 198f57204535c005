import type { Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { ConversationMemberSchema } from './conversation.entity.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { parseUserIds, requireGroup, requireMayAdd, requireRole, requireUsersExist, requireWithinCap } from './group-rules.js';
import { requireMember } from './membership.js';
import { membershipChanged } from './notices.js';
import { publishMembersChanged } from '../events/members-changed.js';

/**
 * Adds users to a group (owner or admin). Users already in it are left as they are, so a retried
 * add is harmless; every id is still checked, and each new member must accept messages from the adder.
 */
export async function addGroupMembers(deps: MessagingDeps, caller: Caller, input: { conversationId: string; userIds: string[] }): Promise<ConversationView> {
  const userIds = parseUserIds(input.userIds);
  await deps.rateLimits.memberAddsPerCaller.enforce(caller.userId, 'too many AddMembers calls');
  // Adding someone starts a conversation with them.
  await deps.sanctions.require(caller.userId, 'start_conversation');
  const { view, signal } = await deps.orm.em.fork().transactional(async (em) => {
    const { conversation, member } = await requireMember(em, input.conversationId, caller.userId, { lock: true });
    requireGroup(conversation);
    requireRole(member, ['owner', 'admin'], 'add members');
    await requireUsersExist(em, userIds);
    const current = new Set((await em.find(ConversationMemberSchema, { conversation })).map((m) => m.userId));
    const added = userIds.filter((id) => !current.has(id));
    requireWithinCap(current.size + added.length, deps.settings.groupMaxMembers);
    await requireMayAdd(em, caller.userId, added);
    const now = new Date();
    for (const userId of added) em.create(ConversationMemberSchema, { conversation, userId, role: 'member', joinedAt: now, archived: false, mutedUntil: null });
    if (added.length) await publishMembersChanged(em, deps.outbox, conversation.id);
    const view = await loadConversationView(em, conversation, caller.userId);
    const signal = added.length ? await membershipChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, conversation.id) : [];
    return { view, signal };
  });
  deps.live.delivered(signal);
  return view;
}
