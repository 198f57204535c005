import { randomUUID } from 'node:crypto';
import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { events, type TokenSubject } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import type { Device } from './device.entity.js';
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

export interface PendingRefreshToken {
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

/** A pending refresh token: persisted in the caller's transaction, handed out after commit. */
export function addRefreshToken(em: EntityManager, deps: AuthDeps, session: Session, now: Date): PendingRefreshToken {
  const { token, hash } = newRefreshToken();
  const expiresAt = new Date(now.getTime() + deps.settings.refreshTtlSeconds * 1000);
  em.create(RefreshTokenSchema, { id: randomUUID(), session, tokenHash: hash, createdAt: now, expiresAt });
  return { refreshToken: token, refreshTokenExpiresAt: expiresAt };
}

/** Signs `device` in: a new session (a new refresh-token family) for it. */
export function openSession(em: EntityManager, deps: AuthDeps, user: User, device: Device, now: Date, proof: 'password' | 'approval') {
  const passwordVerifiedAt = proof === 'password' ? now : null;
  const session = em.create(SessionSchema, { id: randomUUID(), user, device, createdAt: now, passwordVerifiedAt });
  const caller: TokenSubject = { userId: user.id, sessionId: session.id, deviceId: device.deviceId };
  return { session, caller, refresh: addRefreshToken(em, deps, session, now) };
}

export async function withAccessToken(deps: AuthDeps, caller: TokenSubject, refresh: PendingRefreshToken): Promise<TokenPair> {
  const access = await deps.issuer.accessToken(caller);
  return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, ...refresh };
}

/**
 * Ends the user's live sessions that match `where`, inside the caller's transaction, and tells
 * the edge (auth.session.revoked) so their access tokens stop working at the next call.
 */
export async function revokeSessions(
  em: EntityManager,
  deps: AuthDeps,
  userId: string,
  where: FilterQuery<Session> = {},
  now = new Date(),
): Promise<string[]> {
  const rows: { id: string }[] = await em
    .createQueryBuilder(SessionSchema)
    .update({ revokedAt: now })
    .where({ $and: [{ user: userId, revokedAt: null }, where] })
    .returning('id')
    .execute('all');
  const sessionIds = rows.map((r) => r.id);
  if (sessionIds.length > 0) deps.outbox.add(em, events.sessionsRevoked, { userId, sessionIds });
  return sessionIds;
}

/** Waits until the revocation events this process committed are on the bus, so the edge refuses at the next call. */
export async function announceRevocations(deps: AuthDeps): Promise<void> {
  await deps.outbox.published();
}
