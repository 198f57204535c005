import { EntitySchema } from '@mikro-orm/core';
import { DeviceSchema, type Device } from './device.entity.js';
import { UserSchema, type User } from './user.entity.js';

/**
 * One sign-in of one device. Access tokens name it in their `sid` claim; revoking it ends them
 * all. Its refresh tokens form one rotation family: a reused one revokes the session.
 */
export interface Session {
  id: string;
  user: User;
  device: Device;
  createdAt: Date;
  /** When the password was proven for it (Register, Login, a password link); null when a device linked it by approval. */
  passwordVerifiedAt?: Date | null;
  lastRefreshedAt?: Date | null;
  revokedAt?: Date | null;
}

export const SessionSchema = new EntitySchema<Session>({
  name: 'Session',
  tableName: 'session',
  properties: {
    id: { type: 'uuid', primary: true },
    user: { kind: 'm:1', entity: () => UserSchema, deleteRule: 'cascade', index: true },
    device: { kind: 'm:1', entity: () => DeviceSchema, deleteRule: 'cascade', index: true },
    createdAt: { type: 'datetime' },
    passwordVerifiedAt: { type: 'datetime', nullable: true },
    lastRefreshedAt: { type: 'datetime', nullable: true },
    revokedAt: { type: 'datetime', nullable: true },
  },
});
