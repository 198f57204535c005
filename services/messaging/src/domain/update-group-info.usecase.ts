import { rpcError, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import { loadConversationView, type ConversationView } from './conversation-view.js';
import { requireGroup, requireRole } from './group-rules.js';
import { requireMember } from './membership.js';
import { membershipChanged } from './notices.js';

/**
 * Replaces the group's encrypted info (owner or admin), bumping info_version; with
 * `expectedInfoVersion`, only if nobody changed it since the caller read it.
 */
export async function updateGroupInfo(
  deps: MessagingDeps,
  caller: Caller,
  input: { conversationId: string; encryptedInfo: Uint8Array; expectedInfoVersion?: bigint },
): Promise<ConversationView> {
  const { view, signal } = await deps.orm.em.fork().transactional(async (em) => {
    const { conversation, member } = await requireMember(em, input.conversationId, caller.userId, { lock: true });
    requireGroup(conversation);
    requireRole(member, ['owner', 'admin'], 'change the group info');
    if (input.expectedInfoVersion !== undefined && BigInt(conversation.infoVersion) !== input.expectedInfoVersion) {
      throw rpcError.failedPrecondition(`the group info is at version ${conversation.infoVersion}, not ${input.expectedInfoVersion}: read it again`);
    }
    conversation.encryptedInfo = Buffer.from(input.encryptedInfo);
    conversation.infoVersion += 1;
    const view = await loadConversationView(em, conversation, caller.userId);
    // Members hear of info changes through the same notice, so they refetch the title.
    return { view, signal: await membershipChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, conversation.id) };
  });
  deps.live.delivered(signal);
  return view;
}
