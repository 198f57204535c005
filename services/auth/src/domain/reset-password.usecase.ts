import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { parseNewPassword } from './credentials.js';
import { PasswordResetTokenSchema, type PasswordResetToken } from './password-reset-token.entity.js';
import { announceRevocations, revokeSessions } from './sessions.js';
import { storePasswordHash } from './store-password.js';
import { hashOpaqueToken } from './token-issuer.js';

const UNKNOWN_TOKEN = 'unknown reset token: check it, or ask for a new one with RequestPasswordReset';
const USED_TOKEN = 'reset token was already used: ask for a new one with RequestPasswordReset';
const EXPIRED_TOKEN = 'reset token has expired: ask for a new one with RequestPasswordReset';

export interface ResetPasswordInput {
  resetToken: string;
  newPassword: string;
}

function refuseSpent(token: PasswordResetToken, now: Date): void {
  if (token.usedAt) throw rpcError.failedPrecondition(USED_TOKEN);
  if (token.expiresAt <= now) throw rpcError.failedPrecondition(EXPIRED_TOKEN);
}

/**
 * Sets a new password with a reset token and ends every session of the account. The token is
 * spent by a conditional update in the same transaction, so two concurrent uses can't both work.
 */
export async function resetPassword(deps: AuthDeps, input: ResetPasswordInput): Promise<void> {
  if (input.resetToken.length > 128) throw rpcError.notFound(UNKNOWN_TOKEN);
  const stored = await deps.orm.em
    .fork()
    .findOne(PasswordResetTokenSchema, { tokenHash: hashOpaqueToken(input.resetToken) }, { populate: ['user'] });
  if (!stored) throw rpcError.notFound(UNKNOWN_TOKEN);
  refuseSpent(stored, new Date());
  const userId = stored.user.id;
  const passwordHash = await deps.passwords.hash(parseNewPassword(input.newPassword, stored.user.username));
  const now = new Date();
  const revoked = await deps.orm.em.fork().transactional(async (em) => {
    const spent = await em.nativeUpdate(PasswordResetTokenSchema, { id: stored.id, usedAt: null, expiresAt: { $gt: now } }, { usedAt: now });
    if (spent === 0) {
      // Spent, expired or deleted with its account while bcrypt ran: say which.
      const current = await em.findOne(PasswordResetTokenSchema, { id: stored.id });
      if (current) refuseSpent(current, now);
      throw rpcError.notFound(UNKNOWN_TOKEN);
    }
    await storePasswordHash(em, userId, passwordHash, now);
    return revokeSessions(em, deps, userId, {}, now);
  });
  if (revoked.length > 0) await announceRevocations(deps);
}
