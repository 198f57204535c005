import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import { announceRevocations, revokeSessions } from './sessions.js';

/** Ends every session of the caller's account, the caller's own included; returns how many. */
export async function logoutEverywhere(deps: AuthDeps, caller: Caller): Promise<number> {
  const em = deps.orm.em.fork();
  await requireLiveSession(em, caller);
  const revoked = await em.transactional((tx) => revokeSessions(tx, deps, caller.userId));
  if (revoked.length > 0) await announceRevocations(deps);
  return revoked.length;
}
