import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import { RefreshTokenSchema } from './refresh-token.entity.js';
import type { Session } from './session.entity.js';

/**
 * The account's open sessions, oldest first, with their devices: not revoked, and still holding
 * an unused refresh token that has not expired (a session without one can never be used again).
 */
export async function listSessions(deps: AuthDeps, caller: Caller): Promise<Session[]> {
  const em = deps.orm.em.fork();
  await requireLiveSession(em, caller);
  const tokens = await em.find(
    RefreshTokenSchema,
    { session: { user: caller.userId, revokedAt: null }, usedAt: null, expiresAt: { $gt: new Date() } },
    { populate: ['session', 'session.device'], orderBy: { session: { createdAt: 'asc', id: 'asc' } } },
  );
  return [...new Map(tokens.map((t) => [t.session.id, t.session])).values()];
}
