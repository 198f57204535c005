import { requireUuid, rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { PasswordResetTokenSchema } from './password-reset-token.entity.js';
import { newOpaqueToken } from './token-issuer.js';

/**
 * Draws the token of a reset that RequestPasswordReset recorded, for the mailer, and keeps only its
 * SHA-256. A conditional update sets it, so a reset's token is handed out once, even to two racing
 * calls: afterwards it is known only to whoever received it.
 */
export async function issuePasswordResetToken(
  deps: Pick<AuthDeps, 'orm'>,
  input: { resetId: string },
): Promise<{ resetToken: string; expiresAt: Date }> {
  const resetId = requireUuid(input.resetId, 'reset_id');
  const { token, hash } = newOpaqueToken();
  const em = deps.orm.em.fork();
  const now = new Date();
  const issued = await em.nativeUpdate(PasswordResetTokenSchema, { id: resetId, tokenHash: null, usedAt: null, expiresAt: { $gt: now } }, { tokenHash: hash });
  const reset = await em.findOne(PasswordResetTokenSchema, { id: resetId });
  if (!reset) throw rpcError.notFound(`no password reset has id ${resetId}`);
  if (issued === 1) return { resetToken: token, expiresAt: reset.expiresAt };
  if (reset.usedAt) throw rpcError.failedPrecondition('this password reset was already used');
  if (reset.expiresAt <= now) throw rpcError.failedPrecondition('this password reset has expired');
  throw rpcError.failedPrecondition("this password reset's token was already issued: it is handed out once");
}
