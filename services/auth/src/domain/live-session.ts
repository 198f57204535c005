import type { EntityManager } from '@mikro-orm/core';
import { rpcError, type Caller } from '@parley/platform';
import { SessionSchema, type Session } from './session.entity.js';

/**
 * The caller's session, with its user and device, if it is still live. Auth owns sessions, so its
 * own RPCs check here rather than trust a token that may have been revoked since it was signed.
 */
export async function requireLiveSession(em: EntityManager, caller: Caller): Promise<Session> {
  const session = await em.findOne(SessionSchema, { id: caller.sessionId }, { populate: ['user', 'device'] });
  if (!session || session.revokedAt || session.user.id !== caller.userId || session.device.deviceId !== caller.deviceId) {
    throw rpcError.unauthenticated('session has ended: log in again');
  }
  return session;
}
