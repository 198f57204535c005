import type { Caller } from '@parley/platform';
import type { AuthDeps } from './auth-deps.js';
import { SessionSchema } from './session.entity.js';

/** Ends the caller's session: its refresh tokens stop working and GetMe refuses its access tokens. */
export async function logout(deps: AuthDeps, caller: Caller): Promise<void> {
  await deps.orm.em
    .fork()
    .nativeUpdate(SessionSchema, { id: caller.sessionId, user: caller.userId, revokedAt: null }, { revokedAt: new Date() });
}
