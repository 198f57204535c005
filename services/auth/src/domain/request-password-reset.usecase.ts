import { randomUUID } from 'node:crypto';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { EntityManager } from '@mikro-orm/postgresql';
import { events, rpcError, type RateLimiter } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { parseUsername } from './credentials.js';
import { PasswordResetTokenSchema } from './password-reset-token.entity.js';
import { newOpaqueToken } from './token-issuer.js';
import { UserSchema } from './user.entity.js';

export interface RequestPasswordResetInput {
  username: string;
  /** The app's address, from the edge, or 'unknown'. */
  clientAddress: string;
}

/**
 * Issues a single-use reset token for the account and hands it to the mailer as
 * auth.password_reset.requested, in one transaction. It answers the same for unknown usernames:
 * the same limits apply, a token is drawn all the same, and the transaction differs only by the
 * two rows it does not insert.
 */
export async function requestPasswordReset(deps: AuthDeps, input: RequestPasswordResetInput): Promise<void> {
  const username = parseUsername(input.username);
  const issued = await deps.orm.em.fork().transactional(async (em) => {
    await spend(em, deps.rateLimits.passwordResetsPerAddress, input.clientAddress, 'too many password reset requests from this address');
    await spend(em, deps.rateLimits.passwordResetsPerAccount, username, 'too many password reset requests for this username');
    const user = await em.findOne(UserSchema, { username });
    const { token, hash } = newOpaqueToken();
    if (!user) return undefined;
    const now = new Date();
    const expiresAt = new Date(now.getTime() + deps.settings.passwordResetTtlSeconds * 1000);
    em.create(PasswordResetTokenSchema, { id: randomUUID(), user, tokenHash: hash, createdAt: now, expiresAt });
    deps.outbox.add(em, events.passwordResetRequested, { userId: user.id, username, resetToken: token, expiresAt: timestampFromDate(expiresAt) });
    return { token, expiresAt };
  });
  if (issued && deps.settings.devMode) {
    deps.log.warn({ username, resetToken: issued.token, expiresAt: issued.expiresAt }, 'AUTH_DEV_MODE: password reset token');
  }
}

/** Takes from a limit inside the transaction, so a refusal by the next one rolls this back too. */
async function spend(em: EntityManager, limiter: RateLimiter, subject: string, what: string): Promise<void> {
  const decision = await limiter.take(subject, 1, em);
  if (!decision.allowed) throw rpcError.resourceExhausted(`${what}; retry in ${decision.retryAfterSeconds} s`);
}
