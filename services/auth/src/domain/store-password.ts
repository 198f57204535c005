import type { EntityManager } from '@mikro-orm/postgresql';
import { PasswordResetTokenSchema } from './password-reset-token.entity.js';
import { UserSchema } from './user.entity.js';

/**
 * Replaces the account's password hash inside the caller's transaction. Reset tokens still open
 * are spent with it: each was asked for under the old password.
 */
export async function storePasswordHash(em: EntityManager, userId: string, passwordHash: string, now: Date): Promise<void> {
  await em.nativeUpdate(UserSchema, { id: userId }, { passwordHash });
  await em.nativeUpdate(PasswordResetTokenSchema, { user: userId, usedAt: null }, { usedAt: now });
}
