import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { ConversationMembersSchema } from '../../domain/conversation-members.entity.js';

/** Replaces media's copy of a conversation's members, unless it already reflects a later change. */
export const conversationMembersChangedConsumer = defineConsumer({
  name: 'conversation-members-changed',
  eventType: events.conversationMembersChanged,
  async handle(em, { conversationId, memberUserIds }, envelope) {
    const at = changedAt(envelope);
    await em.upsert(ConversationMembersSchema, { conversationId, memberIds: memberUserIds, changedAt: at }, ifNotOlder(at));
  },
});
