import { randomUUID } from 'node:crypto';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { EntityManager } from '@mikro-orm/postgresql';
import { events, rpcError, type RateLimiter } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { parseUsername } from './credentials.js';
import { PasswordResetTokenSchema } from './password-reset-token.entity.js';
import { issuePasswordResetToken } from './issue-password-reset-token.usecase.js';
import { UserSchema } from './user.entity.js';

export interface RequestPasswordResetInput {
  username: string;
  /** The app's address, from the edge, or 'unknown'. */
  clientAddress: string;
}

/**
 * Records a reset for the account and tells the mailer as auth.password_reset.requested, in one
 * transaction. The event names the reset, never a token: the mailer fetches the token with
 * IssuePasswordResetToken, so no secret is stored on the bus. It answers the same for unknown
 * usernames: the same limits apply, and the transaction differs only by the two rows it does not
 * insert. With AUTH_DEV_MODE (no mailer) the token is issued at once and logged instead.
 */
export async function requestPasswordReset(deps: AuthDeps, input: RequestPasswordResetInput): Promise<void> {
  const username = parseUsername(input.username);
  const reset = await deps.orm.em.fork().transactional(async (em) => {
    await spend(em, deps.rateLimits.passwordResetsPerAddress, input.clientAddress, 'too many password reset requests from this address');
    await spend(em, deps.rateLimits.passwordResetsPerAccount, username, 'too many password reset requests for this username');
    const user = await em.findOne(UserSchema, { username });
    if (!user) return undefined;
    const now = new Date();
    const expiresAt = new Date(now.getTime() + deps.settings.passwordResetTtlSeconds * 1000);
    const resetId = randomUUID();
    em.create(PasswordResetTokenSchema, { id: resetId, user, createdAt: now, expiresAt });
    deps.outbox.add(em, events.passwordResetRequested, { userId: user.id, username, resetId, expiresAt: timestampFromDate(expiresAt) });
    return resetId;
  });
  if (reset && deps.settings.devMode) {
    const { resetToken, expiresAt } = await issuePasswordResetToken(deps, { resetId: reset });
    deps.log.warn({ username, resetToken, expiresAt }, 'AUTH_DEV_MODE: password reset token');
  }
}

/** Takes from a limit inside the transaction, so a refusal by the next one rolls this back too. */
async function spend(em: EntityManager, limiter: RateLimiter, subject: string, what: string): Promise<void> {
  const decision = await limiter.take(subject, 1, em);
  if (!decision.allowed) throw rpcError.resourceExhausted(`${what}; retry in ${decision.retryAfterSeconds} s`);
}
