import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events, ifNotOlder, sqlRows } from '@parley/platform';
import { ConversationMembersSchema } from '../../domain/conversation-members.entity.js';

/**
 * Replaces media's copy of a conversation's members, unless it already reflects a later change.
 * No members means the conversation is gone: its row and its grants go (ids are never reused).
 */
export const conversationMembersChangedConsumer = defineConsumer({
  name: 'conversation-members-changed',
  eventType: events.conversationMembersChanged,
  async handle(coreEm, { conversationId, memberUserIds }, envelope) {
    const em = coreEm as EntityManager;
    if (memberUserIds.length === 0) {
      await sqlRows(em, `delete from attachment_grant where conversation_id = ?`, [conversationId]);
      await sqlRows(em, `delete from conversation_members where conversation_id = ?`, [conversationId]);
      return;
    }
    const at = changedAt(envelope);
    await em.upsert(ConversationMembersSchema, { conversationId, memberIds: memberUserIds, changedAt: at }, ifNotOlder(at));
  },
});
