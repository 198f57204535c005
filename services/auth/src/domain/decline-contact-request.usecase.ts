import type { Caller } from '@parley/platform';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { ContactRequestSchema } from './contact.entity.js';
import { blocks, parseOtherUserId } from './contacts.js';
import { requireLiveSession } from './live-session.js';

/** Declines the request `userId` sent the caller. The sender is not told; they may ask again. */
export async function declineContactRequest(deps: AuthDeps, caller: Caller, input: { userId: string }): Promise<void> {
  const otherId = parseOtherUserId(input.userId, caller.userId, 'you have no contact request from yourself');
  const em = deps.orm.em.fork();
  await requireLiveSession(em, caller);
  // A request from a user the caller blocks is hidden from them, so it is unknown here too.
  const deleted = (await blocks(em, caller.userId, otherId)) ? 0 : await em.nativeDelete(ContactRequestSchema, { from: otherId, to: caller.userId });
  if (deleted === 0) throw rpcError.notFound('this user has not sent you a contact request');
}
