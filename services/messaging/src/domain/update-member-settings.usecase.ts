import type { Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { requireMember } from './membership.js';

/** Sets the caller's own archive and mute settings; a mute that already ended is stored as none. */
export async function updateMemberSettings(
  deps: MessagingDeps,
  caller: Caller,
  input: { conversationId: string; archived: boolean; mutedUntil?: Date },
): Promise<ConversationView> {
  return deps.orm.em.fork().transactional(async (em) => {
    const { conversation, member } = await requireMember(em, input.conversationId, caller.userId);
    member.archived = input.archived;
    member.mutedUntil = input.mutedUntil && input.mutedUntil.getTime() > Date.now() ? input.mutedUntil : null;
    return loadConversationView(em, conversation, caller.userId);
  });
}
