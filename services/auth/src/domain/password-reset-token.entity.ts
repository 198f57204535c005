import { EntitySchema } from '@mikro-orm/core';
import { UserSchema, type User } from './user.entity.js';

/**
 * A password reset. Its token is drawn when the mailer fetches it (IssuePasswordResetToken), and
 * stored only as its SHA-256; until then `tokenHash` is null. It works once, before it expires.
 */
export interface PasswordResetToken {
  id: string;
  user: User;
  tokenHash?: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date | null;
}

export const PasswordResetTokenSchema = new EntitySchema<PasswordResetToken>({
  name: 'PasswordResetToken',
  tableName: 'password_reset_token',
  properties: {
    id: { type: 'uuid', primary: true },
    user: { kind: 'm:1', entity: () => UserSchema, deleteRule: 'cascade', index: true },
    tokenHash: { type: 'text', unique: true, nullable: true },
    createdAt: { type: 'datetime' },
    expiresAt: { type: 'datetime' },
    usedAt: { type: 'datetime', nullable: true },
  },
});
