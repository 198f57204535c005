import { LockMode } from '@mikro-orm/core';
import { rpcError, type TokenSubject } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { RefreshTokenSchema } from './refresh-token.entity.js';
import { addRefreshToken, announceRevocations, revokeSessions, withAccessToken, type TokenPair } from './sessions.js';
import { hashRefreshToken } from './token-issuer.js';

type Outcome = { ok: true; caller: TokenSubject; next: ReturnType<typeof addRefreshToken> } | { ok: false; error: string; revoked?: boolean };

/**
 * Rotates a refresh token. The row is locked, so two concurrent uses can't both succeed. A token
 * presented after it was used means it leaked: its whole family (the session) is revoked.
 */
export async function refresh(deps: AuthDeps, input: { refreshToken: string }): Promise<TokenPair> {
  if (input.refreshToken.length > 128) throw rpcError.unauthenticated('unknown refresh token: log in again');
  const now = new Date();
  const outcome = await deps.orm.em.fork().transactional(async (em): Promise<Outcome> => {
    const stored = await em.findOne(
      RefreshTokenSchema,
      { tokenHash: hashRefreshToken(input.refreshToken) },
      { populate: ['session', 'session.device'], lockMode: LockMode.PESSIMISTIC_WRITE, lockTableAliases: ['r0'] },
    );
    if (!stored) return { ok: false, error: 'unknown refresh token: log in again' };
    const session = stored.session;
    // Before "session has ended": a ban revoked it, and the app should say why.
    await deps.sanctions.require(session.user.id, 'login');
    if (session.revokedAt) return { ok: false, error: 'session has ended: log in again' };
    if (stored.usedAt) {
      await revokeSessions(em, deps, session.user.id, { id: session.id }, now);
      return { ok: false, revoked: true, error: 'refresh token was already used, so its session has been revoked: log in again' };
    }
    if (stored.expiresAt <= now) return { ok: false, error: 'refresh token expired: log in again' };
    stored.usedAt = now;
    session.lastRefreshedAt = now;
    const caller = { userId: session.user.id, sessionId: session.id, deviceId: session.device.deviceId };
    return { ok: true, caller, next: addRefreshToken(em, deps, session, now) };
  });
  if (!outcome.ok) {
    if (outcome.revoked) await announceRevocations(deps);
    throw rpcError.unauthenticated(outcome.error);
  }
  return withAccessToken(deps, outcome.caller, outcome.next);
}
