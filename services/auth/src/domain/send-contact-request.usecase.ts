import type { Caller } from '@parley/platform';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { ContactRequestSchema, ContactSchema } from './contact.entity.js';
import { addContact, blocks, lockPair, parseOtherUserId, requireUser } from './contacts.js';
import { requireLiveSession } from './live-session.js';

/**
 * Asks `userId` to become the caller's contact. If they already asked the caller, the two become
 * contacts at once. A caller who blocked the user must unblock them first. A request to someone who
 * blocked the caller answers and is stored like any other, so the caller can't tell a block, but
 * its recipient never sees it while the block stands (list, accept and decline skip it).
 */
export async function sendContactRequest(deps: AuthDeps, caller: Caller, input: { userId: string }): Promise<{ becameContacts: boolean }> {
  const otherId = parseOtherUserId(input.userId, caller.userId, "you can't send a contact request to yourself");
  await deps.rateLimits.contactRequestsPerCaller.enforce(caller.userId, 'too many contact requests');
  await deps.sanctions.require(caller.userId, 'contact_request');
  return deps.orm.em.fork().transactional(async (em) => {
    const { user } = await requireLiveSession(em, caller);
    await lockPair(em, user.id, otherId);
    const other = await requireUser(em, otherId);
    if (await blocks(em, user.id, other.id)) throw rpcError.failedPrecondition('you blocked this user: unblock them first (UnblockUser)');
    if (await em.count(ContactSchema, { user, contact: other })) throw rpcError.alreadyExists('this user is already one of your contacts');
    if (await em.count(ContactRequestSchema, { from: user, to: other })) throw rpcError.alreadyExists('you already sent this user a contact request');
    const now = new Date();
    const theirs = await em.nativeDelete(ContactRequestSchema, { from: other, to: user });
    if (theirs > 0) {
      addContact(em, deps, user, other, now);
      return { becameContacts: true };
    }
    em.create(ContactRequestSchema, { from: user, to: other, createdAt: now });
    return { becameContacts: false };
  });
}
