import { randomUUID } from 'node:crypto';
import { canonicalUuid, rpcError, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { ConversationMemberSchema, ConversationSchema, directPairKey, type Conversation, type ConversationMember } from './conversation.entity.js';
import { requireMayMessage } from './may-message.js';
import { UserProjectionSchema } from './user-projection.entity.js';
import { publishMembersChanged } from '../events/members-changed.js';

export interface OpenedConversation {
  conversation: Conversation;
  members: ConversationMember[];
  created: boolean;
}

/**
 * The one direct conversation between the caller and `userId`, created on first use. Opens that
 * race (from either side) meet at the unique pair key: one inserts, the others find its row.
 */
export async function openDirectConversation(deps: MessagingDeps, caller: Caller, input: { userId: string }): Promise<OpenedConversation> {
  const otherId = canonicalUuid(input.userId);
  if (otherId === caller.userId) throw rpcError.invalidArgument("you can't open a conversation with yourself");
  // A restricted caller may still open a conversation that exists, not start one.
  const refusal = await deps.sanctions.refusal(caller.userId, 'start_conversation');
  return deps.orm.em.fork().transactional(async (em) => {
    if ((await em.count(UserProjectionSchema, { userId: otherId })) === 0) throw rpcError.notFound(`no user has id ${otherId}`);
    await requireMayMessage(em, caller.userId, otherId);
    const key = directPairKey(caller.userId, otherId);
    const now = new Date();
    const inserted: { id: string }[] = await em.execute(
      `insert into conversation (id, kind, created_at, last_activity_at, direct_pair_key) values (?, 'direct', ?, ?, ?)
       on conflict (direct_pair_key) do nothing returning id`,
      [randomUUID(), now, now, key],
    );
    const created = inserted.length > 0;
    if (created && refusal) throw refusal;
    if (created) {
      for (const userId of [caller.userId, otherId]) {
        await em.insert(ConversationMemberSchema, { conversation: inserted[0]!.id, userId, role: 'member', joinedAt: now, archived: false, mutedUntil: null });
      }
    }
    if (created) await publishMembersChanged(em, deps.outbox, inserted[0]!.id);
    const conversation = await em.findOneOrFail(ConversationSchema, { directPairKey: key });
    const members = await em.find(ConversationMemberSchema, { conversation }, { orderBy: { userId: 'asc' } });
    return { conversation, members, created };
  });
}
