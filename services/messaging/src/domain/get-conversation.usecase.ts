import type { Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { requireMember } from './membership.js';

/** One conversation the caller is a member of. */
export async function getConversation(deps: MessagingDeps, caller: Caller, input: { conversationId: string }): Promise<ConversationView> {
  const em = deps.orm.em.fork();
  const { conversation } = await requireMember(em, input.conversationId, caller.userId);
  return loadConversationView(em, conversation, caller.userId);
}
