import { EntitySchema } from '@mikro-orm/core';
import { SessionSchema, type Session } from './session.entity.js';

/** A refresh token, stored only as its SHA-256. Each works once; using it issues the next. */
export interface RefreshToken {
  id: string;
  session: Session;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date | null;
}

export const RefreshTokenSchema = new EntitySchema<RefreshToken>({
  name: 'RefreshToken',
  tableName: 'refresh_token',
  properties: {
    id: { type: 'uuid', primary: true },
    session: { kind: 'm:1', entity: () => SessionSchema, deleteRule: 'cascade', index: true },
    tokenHash: { type: 'text', unique: true },
    createdAt: { type: 'datetime' },
    expiresAt: { type: 'datetime' },
    usedAt: { type: 'datetime', nullable: true },
  },
});
