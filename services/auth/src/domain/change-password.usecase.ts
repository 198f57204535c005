import { rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { parseNewPassword } from './credentials.js';
import { checkWithinBudgets } from './failure-budget.js';
import { requireLiveSession } from './live-session.js';
import { announceRevocations, revokeSessions } from './sessions.js';
import { storePasswordHash } from './store-password.js';

export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
}

/**
 * Sets a new password once the current one is proven, and ends every other session of the
 * account; the caller's goes on. A wrong current password is PERMISSION_DENIED, not
 * UNAUTHENTICATED: the caller's session is fine, and apps log out on UNAUTHENTICATED. Wrong
 * guesses spend the account's login-failure budget, so a stolen access token can't be used to
 * guess the password faster than Login allows. Returns how many sessions ended.
 */
export async function changePassword(deps: AuthDeps, caller: Caller, input: ChangePasswordInput): Promise<number> {
  const { user } = await requireLiveSession(deps.orm.em.fork(), caller);
  const newPassword = parseNewPassword(input.newPassword, user.username);
  if (newPassword === input.currentPassword.normalize('NFKC')) throw rpcError.invalidArgument('new_password must differ from the current password');
  const budget = {
    limiter: deps.rateLimits.loginFailuresPerAccount,
    subject: user.username,
    exhausted: 'too many wrong passwords for this account',
  };
  const proven = await checkWithinBudgets([budget], async () => ((await deps.passwords.verify(input.currentPassword, user.passwordHash)) ? true : null));
  if (!proven) throw rpcError.permissionDenied('current_password is wrong');
  const passwordHash = await deps.passwords.hash(newPassword);
  const now = new Date();
  const revoked = await deps.orm.em.fork().transactional(async (em) => {
    // The session may have been revoked while bcrypt ran.
    await requireLiveSession(em, caller);
    await storePasswordHash(em, user.id, passwordHash, now);
    return revokeSessions(em, deps, user.id, { id: { $ne: caller.sessionId } }, now);
  });
  if (revoked.length > 0) await announceRevocations(deps);
  return revoked.length;
}
