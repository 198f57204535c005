import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { AuthDeps } from './auth-deps.js';
import { RefreshTokenSchema } from './refresh-token.entity.js';
import { SessionSchema, type Session } from './session.entity.js';
import { newRefreshToken } from './token-issuer.js';
import type { User } from './user.entity.js';

export interface TokenPair {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

/** A pending refresh token: persisted in the caller's transaction, handed out after commit. */
export function addRefreshToken(em: EntityManager, deps: AuthDeps, session: Session, now: Date) {
  const { token, hash } = newRefreshToken();
  const expiresAt = new Date(now.getTime() + deps.refreshTtlSeconds * 1000);
  em.create(RefreshTokenSchema, { id: randomUUID(), session, tokenHash: hash, createdAt: now, expiresAt });
  return { refreshToken: token, refreshTokenExpiresAt: expiresAt };
}

export function openSession(em: EntityManager, deps: AuthDeps, user: User, now: Date) {
  const session = em.create(SessionSchema, { id: randomUUID(), user, createdAt: now });
  return { session, ...addRefreshToken(em, deps, session, now) };
}

export async function withAccessToken(
  deps: AuthDeps,
  userId: string,
  sessionId: string,
  refresh: { refreshToken: string; refreshTokenExpiresAt: Date },
): Promise<TokenPair> {
  const access = await deps.issuer.accessToken(userId, sessionId);
  return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, ...refresh };
}
