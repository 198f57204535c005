import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalUuid, rpcError } from '@parley/platform';
import type { Conversation, ConversationMember, MemberRole } from './conversation.entity.js';
import { ConversationMemberSchema } from './conversation.entity.js';
import { firstRefusingAdd } from './may-message.js';
import { UserProjectionSchema } from './user-projection.entity.js';

/** Membership changes apply to groups only. */
export function requireGroup(conversation: Conversation): void {
  if (conversation.kind !== 'group') throw rpcError.failedPrecondition('direct conversations have fixed members');
}

/** PERMISSION_DENIED unless the caller holds one of `roles`; `action` says what they tried. */
export function requireRole(member: ConversationMember, roles: MemberRole[], action: string): void {
  if (!roles.includes(member.role)) throw rpcError.permissionDenied(`only the group's ${roles.join(' or ')} may ${action}`);
}

/** The ids (UUIDs, as the contract checks) in lowercase without repeats, in the order given. */
export function parseUserIds(ids: string[]): string[] {
  return [...new Set(ids.map(canonicalUuid))];
}

/** NOT_FOUND naming the first id that is not a known user. */
export async function requireUsersExist(em: EntityManager, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const found = new Set((await em.find(UserProjectionSchema, { userId: { $in: userIds } }, { fields: ['userId'] })).map((u) => u.userId));
  const missing = userIds.find((id) => !found.has(id));
  if (missing) throw rpcError.notFound(`no user has id ${missing}`);
}

export function requireWithinCap(total: number, cap: number): void {
  if (total > cap) throw rpcError.resourceExhausted(`the group would have ${total} members; a group is full at ${cap}`);
}

/** The member `userId` of the locked conversation, or NOT_FOUND. */
export async function requireTargetMember(em: EntityManager, conversation: Conversation, userId: string): Promise<ConversationMember> {
  const member = await em.findOne(ConversationMemberSchema, { conversation, userId });
  if (!member) throw rpcError.notFound(`user ${userId} is not a member of this group`);
  return member;
}

/**
 * PERMISSION_DENIED naming the first user `adderId` may not add: one who does not accept messages
 * from them, or whose "who may add me to groups" excludes them. One message for every reason, so
 * an adder can't tell a block from either setting.
 */
export async function requireMayAdd(em: EntityManager, adderId: string, userIds: string[]): Promise<void> {
  const refused = await firstRefusingAdd(em, adderId, userIds);
  if (refused) throw rpcError.permissionDenied(`user ${refused} does not accept messages from you`);
}
