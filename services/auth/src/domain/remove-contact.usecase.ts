import type { Caller } from '@parley/platform';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { endContact, lockPair, parseOtherUserId } from './contacts.js';
import { requireLiveSession } from './live-session.js';

/** Ends the contact with `userId` for both sides (auth.contact.removed). */
export async function removeContact(deps: AuthDeps, caller: Caller, input: { userId: string }): Promise<void> {
  const otherId = parseOtherUserId(input.userId, caller.userId, 'you are not your own contact');
  await deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    await lockPair(em, caller.userId, otherId);
    if (!(await endContact(em, deps, caller.userId, otherId))) throw rpcError.notFound('this user is not one of your contacts');
  });
}
