import { EntitySchema } from '@mikro-orm/core';

export interface User {
  id: string;
  /** Lowercase, unique. */
  username: string;
  /** bcrypt over the SHA-256 of the NFKC-normalised password. */
  passwordHash: string;
  createdAt: Date;
}

export const UserSchema = new EntitySchema<User>({
  name: 'User',
  tableName: 'app_user',
  properties: {
    id: { type: 'uuid', primary: true },
    username: { type: 'text', unique: true },
    passwordHash: { type: 'text' },
    createdAt: { type: 'datetime' },
  },
});
