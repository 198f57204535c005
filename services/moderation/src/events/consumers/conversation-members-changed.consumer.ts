import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events, sqlRows } from '@parley/platform';

/** Keeps each conversation's members (who may report it and its messages), unless a later change is already kept. */
export const conversationMembersChangedConsumer = defineConsumer({
  name: 'conversation-members-changed',
  eventType: events.conversationMembersChanged,
  async handle(coreEm, { conversationId, memberUserIds }, envelope) {
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
