import { events, forgetSanctionStanding, RateLimiter, rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { checkWithinBudgets } from './failure-budget.js';
import { requireLiveSession } from './live-session.js';
import { announceRevocations, revokeSessions } from './sessions.js';
import { UserSchema } from './user.entity.js';

/** Without the password, deletion needs a session that proved the password this recently. */
export const RECENT_LOGIN_SECONDS = 300;

/**
 * Deletes the account and, by cascade, everything auth holds for it; auth.account.deleted tells every
 * other service to do the same. Its sessions are announced revoked so the edge refuses them at once.
 */
export async function deleteAccount(deps: AuthDeps, caller: Caller, input: { password: string }): Promise<void> {
  const em = deps.orm.em.fork();
  const session = await requireLiveSession(em, caller);
  const user = session.user;
  if (input.password) {
    // Wrong guesses spend the login-failure budget, so a stolen token is no faster way to guess.
    const budget = { limiter: deps.rateLimits.loginFailuresPerAccount, subject: user.username, exhausted: 'too many wrong passwords for this account' };
    const proven = await checkWithinBudgets([budget], async () => ((await deps.passwords.verify(input.password, user.passwordHash)) ? true : null));
    if (!proven) throw rpcError.permissionDenied('wrong password: the account was not deleted');
  } else if (!session.passwordVerifiedAt || Date.now() - session.passwordVerifiedAt.getTime() > RECENT_LOGIN_SECONDS * 1000) {
    throw rpcError.failedPrecondition(
      `confirm with your password, or log in again and delete within ${RECENT_LOGIN_SECONDS / 60} minutes`,
    );
  }
  await em.transactional(async (tx) => {
    await revokeSessions(tx, deps, user.id);
    deps.outbox.add(tx, events.accountDeleted, { userId: user.id });
    await RateLimiter.forget(tx, [user.id, user.username]);
    await forgetSanctionStanding(tx, user.id);
    await tx.nativeDelete(UserSchema, { id: user.id });
  });
  await announceRevocations(deps);
}
