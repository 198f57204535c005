import { EntitySchema } from '@mikro-orm/core';

/** Messaging's read-model of auth's accounts, fed by auth.user.registered. */
export interface UserProjection {
  userId: string;
  username: string;
  registeredAt: Date;
}

export const UserProjectionSchema = new EntitySchema<UserProjection>({
  name: 'UserProjection',
  tableName: 'user_projection',
  properties: {
    userId: { type: 'uuid', primary: true },
    username: { type: 'text' },
    registeredAt: { type: 'datetime' },
  },
});
