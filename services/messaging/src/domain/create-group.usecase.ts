import { randomUUID } from 'node:crypto';
import { rpcError, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { ConversationMemberSchema, ConversationSchema } from './conversation.entity.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { parseUserIds, requireMayAdd, requireUsersExist, requireWithinCap } from './group-rules.js';
import { membershipChanged } from './notices.js';
import { publishMembersChanged } from '../events/members-changed.js';

/** A new group with the caller as owner and the others as members, each of whom accepts messages from the caller. */
export async function createGroup(deps: MessagingDeps, caller: Caller, input: { memberUserIds: string[]; encryptedInfo: Uint8Array }): Promise<ConversationView> {
  const memberIds = parseUserIds(input.memberUserIds);
  if (memberIds.includes(caller.userId)) throw rpcError.invalidArgument('member_user_ids must not include you: you are added as the owner');
  requireWithinCap(memberIds.length + 1, deps.settings.groupMaxMembers);
  await deps.rateLimits.groupsCreatedPerCaller.enforce(caller.userId, 'too many groups created');
  await deps.sanctions.require(caller.userId, 'start_conversation');
  const { view, signal } = await deps.orm.em.fork().transactional(async (em) => {
    await requireUsersExist(em, memberIds);
    await requireMayAdd(em, caller.userId, memberIds);
    const now = new Date();
    const conversation = em.create(ConversationSchema, {
      id: randomUUID(),
      kind: 'group',
      createdAt: now,
      directPairKey: null,
      lastSeq: 0,
      lastActivityAt: now,
      encryptedInfo: Buffer.from(input.encryptedInfo),
      infoVersion: 0,
    });
    for (const [userId, role] of [[caller.userId, 'owner'] as const, ...memberIds.map((id) => [id, 'member'] as const)]) {
      em.create(ConversationMemberSchema, { conversation, userId, role, joinedAt: now, archived: false, mutedUntil: null });
    }
    const view = await loadConversationView(em, conversation, caller.userId);
    await publishMembersChanged(em, deps.outbox, conversation.id);
    return { view, signal: await membershipChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, conversation.id) };
  });
  deps.live.delivered(signal);
  return view;
}
