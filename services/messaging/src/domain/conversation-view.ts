import type { EntityManager } from '@mikro-orm/postgresql';
import { ConversationMemberSchema, type Conversation, type ConversationMember } from './conversation.entity.js';

/** A conversation as one member sees it: its members in the order they joined, and the caller's own row. */
export interface ConversationView {
  conversation: Conversation;
  members: ConversationMember[];
  callerId: string;
}

/** Flushes pending changes first, so the view shows them. */
export async function loadConversationView(em: EntityManager, conversation: Conversation, callerId: string): Promise<ConversationView> {
  await em.flush();
  const members = await em.find(ConversationMemberSchema, { conversation }, { orderBy: { joinedAt: 'asc', userId: 'asc' } });
  return { conversation, members, callerId };
}
