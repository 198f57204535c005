import { LockMode } from '@mikro-orm/core';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from './auth-deps.js';
import { RefreshTokenSchema } from './refresh-token.entity.js';
import { addRefreshToken, withAccessToken, type TokenPair } from './sessions.js';
import { hashRefreshToken } from './token-issuer.js';

/**
 * Rotates a refresh token. The row is locked, so two concurrent uses can't both succeed. A token
 * presented after it was used means it leaked: the whole session is revoked.
 */
export async function refresh(deps: AuthDeps, input: { refreshToken: string }): Promise<TokenPair> {
  if (!input.refreshToken) throw rpcError.invalidArgument('refresh_token is required');
  if (input.refreshToken.length > 128) throw rpcError.unauthenticated('unknown refresh token: log in again');
  const now = new Date();
  const outcome = await deps.orm.em.fork().transactional(async (em) => {
    const stored = await em.findOne(
      RefreshTokenSchema,
      { tokenHash: hashRefreshToken(input.refreshToken) },
      { populate: ['session'], lockMode: LockMode.PESSIMISTIC_WRITE, lockTableAliases: ['r0'] },
    );
    if (!stored) return { ok: false, error: 'unknown refresh token: log in again' } as const;
    const session = stored.session;
    if (session.revokedAt) return { ok: false, error: 'session has ended: log in again' } as const;
    if (stored.usedAt) {
      session.revokedAt = now;
      return { ok: false, error: 'refresh token was already used, so the session has been revoked: log in again' } as const;
    }
    if (stored.expiresAt <= now) return { ok: false, error: 'refresh token expired: log in again' } as const;
    stored.usedAt = now;
    return { ok: true, userId: session.user.id, sessionId: session.id, next: addRefreshToken(em, deps, session, now) } as const;
  });
  if (!outcome.ok) throw rpcError.unauthenticated(outcome.error);
  return withAccessToken(deps, outcome.userId, outcome.sessionId, outcome.next);
}
