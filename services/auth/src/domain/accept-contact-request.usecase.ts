import type { Caller } from '@parley/platform';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { ContactRequestSchema, type Contact } from './contact.entity.js';
import { addContact, blocks, lockPair, parseOtherUserId, requireUser } from './contacts.js';
import { requireLiveSession } from './live-session.js';

/** Accepts the request `userId` sent the caller: both become contacts (auth.contact.added). */
export async function acceptContactRequest(deps: AuthDeps, caller: Caller, input: { userId: string }): Promise<Contact> {
  const otherId = parseOtherUserId(input.userId, caller.userId, 'you have no contact request from yourself');
  return deps.orm.em.fork().transactional(async (em) => {
    const { user } = await requireLiveSession(em, caller);
    await lockPair(em, user.id, otherId);
    // A request from a user the caller blocks is hidden from them, so it is unknown here too.
    const deleted = (await blocks(em, user.id, otherId)) ? 0 : await em.nativeDelete(ContactRequestSchema, { from: otherId, to: user });
    if (deleted === 0) throw rpcError.notFound('this user has not sent you a contact request');
    const other = await requireUser(em, otherId);
    return addContact(em, deps, user, other, new Date());
  });
}
