import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events, sqlRows } from '@parley/platform';

/**
 * Keeps each conversation's members (who may report it and its messages), unless a later change is
 * already kept. An empty set means the conversation is gone (e.g. its other user's account was
 * deleted): its row goes too.
 */
export const conversationMembersChangedConsumer = defineConsumer({
  name: 'conversation-members-changed',
  eventType: events.conversationMembersChanged,
  async handle(coreEm, { conversationId, memberUserIds }, envelope) {
    if (memberUserIds.length === 0) {
      await sqlRows(coreEm as EntityManager, `delete from conversation_members where conversation_id = ?`, [conversationId]);
      return;
    }
    const at = changedAt(envelope);
    await sqlRows(
      coreEm as EntityManager,
      `insert into conversation_members (conversation_id, member_ids, changed_at) values (?, ?::uuid[], ?)
       on conflict (conversation_id) do update set member_ids = excluded.member_ids, changed_at = excluded.changed_at
       where conversation_members.changed_at <= excluded.changed_at`,
      [conversationId, memberUserIds, at],
    );
  },
});
