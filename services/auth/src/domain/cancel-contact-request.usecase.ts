import type { Caller } from '@parley/platform';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { ContactRequestSchema } from './contact.entity.js';
import { parseOtherUserId } from './contacts.js';
import { requireLiveSession } from './live-session.js';

/** Withdraws the request the caller sent `userId`. */
export async function cancelContactRequest(deps: AuthDeps, caller: Caller, input: { userId: string }): Promise<void> {
  const otherId = parseOtherUserId(input.userId, caller.userId, 'you have no contact request to yourself');
  const em = deps.orm.em.fork();
  await requireLiveSession(em, caller);
  const deleted = await em.nativeDelete(ContactRequestSchema, { from: caller.userId, to: otherId });
  if (deleted === 0) throw rpcError.notFound('you have not sent this user a contact request');
}
