import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { announceRevocations, revokeSessions } from './sessions.js';

/** Ends the caller's session: its refresh tokens stop working and its access tokens are refused. */
export async function logout(deps: AuthDeps, caller: Caller): Promise<void> {
  const revoked = await deps.orm.em.fork().transactional((em) => revokeSessions(em, deps, caller.userId, { id: caller.sessionId }));
  if (revoked.length > 0) await announceRevocations(deps);
}
