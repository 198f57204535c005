import { rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from './auth-deps.js';
import { SessionSchema } from './session.entity.js';
import type { User } from './user.entity.js';

export async function getMe(deps: AuthDeps, caller: Caller): Promise<User> {
  const session = await deps.orm.em.fork().findOne(SessionSchema, { id: caller.sessionId }, { populate: ['user'] });
  if (!session || session.user.id !== caller.userId || session.revokedAt) {
    throw rpcError.unauthenticated('session has ended: log in again');
  }
  return session.user;
}
