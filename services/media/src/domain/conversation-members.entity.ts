import { EntitySchema } from '@mikro-orm/core';

/** A conversation's members, kept from messaging.conversation_members.changed (a whole set per event). */
export interface ConversationMembers {
  conversationId: string;
  memberIds: string[];
  /** When messaging made the change this row reflects. */
  changedAt: Date;
}

export const ConversationMembersSchema = new EntitySchema<ConversationMembers>({
  name: 'ConversationMembers',
  tableName: 'conversation_members',
  properties: {
    conversationId: { type: 'uuid', primary: true },
    memberIds: { type: 'uuid[]', columnType: 'uuid[]' },
    changedAt: { type: 'datetime' },
  },
});
