import type { EntityManager } from '@mikro-orm/postgresql';
import { events, sqlRows, type Outbox } from '@parley/platform';

/**
 * Records messaging.conversation_members.changed in the caller's transaction, with the
 * conversation's members as they are now (none once it is deleted), for other services'
 * read-models (media's download grants).
 */
export async function publishMembersChanged(em: EntityManager, outbox: Outbox, conversationId: string): Promise<void> {
  // Members created or removed through the unit of work must be in the table the query reads.
  await em.flush();
  const rows = await sqlRows<{ user_id: string }>(em, `select user_id from conversation_member where conversation_id = ? order by user_id`, [conversationId]);
  outbox.add(em, events.conversationMembersChanged, { conversationId, memberUserIds: rows.map((r) => r.user_id) });
}
