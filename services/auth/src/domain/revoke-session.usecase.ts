import { canonicalUuid, rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import { announceRevocations, revokeSessions } from './sessions.js';

/**
 * Ends one open session of the caller's account (the caller's own included). Any other id,
 * another account's session among them, is NOT_FOUND: the answer never tells whether it exists.
 */
export async function revokeSession(deps: AuthDeps, caller: Caller, input: { sessionId: string }): Promise<void> {
  const em = deps.orm.em.fork();
  await requireLiveSession(em, caller);
  const sessionId = canonicalUuid(input.sessionId);
  const revoked = await em.transactional((tx) => revokeSessions(tx, deps, caller.userId, { id: sessionId }));
  if (revoked.length === 0) throw rpcError.notFound('your account has no open session with that id: see ListSessions');
  await announceRevocations(deps);
}
