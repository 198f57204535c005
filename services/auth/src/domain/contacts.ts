import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalUuid, events, rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { BlockSchema, ContactRequestSchema, ContactSchema, type Contact } from './contact.entity.js';
import { UserSchema, type User } from './user.entity.js';

/** The other user of a pairwise operation: a well-formed id that is not the caller's. */
export function parseOtherUserId(raw: string, callerId: string, selfMessage: string): string {
  const id = canonicalUuid(raw);
  if (id === callerId) throw rpcError.invalidArgument(selfMessage);
  return id;
}

/**
 * Serialises every contact, request and block change between two users until the transaction
 * ends, so two users asking each other at once become contacts instead of holding two requests.
 */
export async function lockPair(em: EntityManager, a: string, b: string): Promise<void> {
  const key = a < b ? `${a}:${b}` : `${b}:${a}`;
  await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
}

export async function requireUser(em: EntityManager, id: string): Promise<User> {
  const user = await em.findOne(UserSchema, { id });
  if (!user) throw rpcError.notFound(`no user has id ${id}`);
  return user;
}

/** Whether `blocker` blocks `blocked` (one direction only). */
export async function blocks(em: EntityManager, blocker: string, blocked: string): Promise<boolean> {
  return (await em.count(BlockSchema, { blocker, blocked })) > 0;
}

/** Makes the two contacts (one row per side) and announces it with auth.contact.added. */
export function addContact(em: EntityManager, deps: Pick<AuthDeps, 'outbox'>, user: User, other: User, now: Date): Contact {
  const mine = em.create(ContactSchema, { user, contact: other, since: now });
  em.create(ContactSchema, { user: other, contact: user, since: now });
  deps.outbox.add(em, events.contactAdded, { userId: user.id, contactUserId: other.id });
  return mine;
}

/** Ends the contact between the two, if any, with auth.contact.removed; true if there was one. */
export async function endContact(em: EntityManager, deps: Pick<AuthDeps, 'outbox'>, a: string, b: string): Promise<boolean> {
  const deleted = await em.nativeDelete(ContactSchema, { $or: [{ user: a, contact: b }, { user: b, contact: a }] });
  if (deleted === 0) return false;
  deps.outbox.add(em, events.contactRemoved, { userId: a, contactUserId: b });
  return true;
}

/** Drops pending requests between the two, in both directions. */
export async function dropRequests(em: EntityManager, a: string, b: string): Promise<void> {
  await em.nativeDelete(ContactRequestSchema, { $or: [{ from: a, to: b }, { from: b, to: a }] });
}
