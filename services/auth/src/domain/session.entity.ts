import { EntitySchema } from '@mikro-orm/core';
import { UserSchema, type User } from './user.entity.js';

/** One signed-in client. Access tokens name it in their `sid` claim; revoking it ends them all. */
export interface Session {
  id: string;
  user: User;
  createdAt: Date;
  revokedAt?: Date | null;
}

export const SessionSchema = new EntitySchema<Session>({
  name: 'Session',
  tableName: 'session',
  properties: {
    id: { type: 'uuid', primary: true },
    user: { kind: 'm:1', entity: () => UserSchema, deleteRule: 'cascade', index: true },
    createdAt: { type: 'datetime' },
    revokedAt: { type: 'datetime', nullable: true },
  },
});
