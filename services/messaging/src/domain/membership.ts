import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError } from '@parley/platform';
import { ConversationMemberSchema, ConversationSchema, type Conversation, type ConversationMember } from './conversation.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `value` as a lowercase UUID, or INVALID_ARGUMENT naming `field`. */
export function requireUuid(value: string, field: string): string {
  const v = value.trim().toLowerCase();
  if (!v) throw rpcError.invalidArgument(`${field} is required`);
  if (!UUID.test(v)) throw rpcError.invalidArgument(`${field} must be a UUID`);
  return v;
}

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
  const id = requireUuid(conversationId, 'conversation_id');
  const notFound = () => rpcError.notFound(`you are not a member of a conversation with id ${id}`);
  // Locked before membership is read, so the membership seen holds until the transaction ends.
  const conversation = await em.findOne(ConversationSchema, { id }, opts.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
  if (!conversation) throw notFound();
  const member = await em.findOne(ConversationMemberSchema, { conversation, userId });
  if (!member) throw notFound();
  return { conversation, member };
}
