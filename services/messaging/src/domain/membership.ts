import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalUuid, rpcError } from '@parley/platform';
import { ConversationMemberSchema, ConversationSchema, type Conversation, type ConversationMember } from './conversation.entity.js';

/** NOT_FOUND for a conversation the caller is not in, worded the same whether or not it exists. */
export const notAMember = (conversationId: string) => rpcError.notFound(`you are not a member of a conversation with id ${conversationId}`);

export interface Membership {
  conversation: Conversation;
  member: ConversationMember;
}

/**
 * The conversation and the caller's membership of it. A conversation the caller is not in is
 * NOT_FOUND, the same as one that does not exist, so ids can't be probed. `lock` takes the
 * conversation row FOR UPDATE: sends and membership changes to one conversation then queue up.
 */
export async function requireMember(em: EntityManager, conversationId: string, userId: string, opts: { lock?: boolean } = {}): Promise<Membership> {
  const id = canonicalUuid(conversationId);
  const notFound = () => notAMember(id);
  // Locked before membership is read, so the membership seen holds until the transaction ends.
  const conversation = await em.findOne(ConversationSchema, { id }, opts.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
  if (!conversation) throw notFound();
  const member = await em.findOne(ConversationMemberSchema, { conversation, userId });
  if (!member) throw notFound();
  return { conversation, member };
}
