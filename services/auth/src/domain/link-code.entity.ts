import { EntitySchema } from '@mikro-orm/core';
import { UserSchema, type User } from './user.entity.js';

/**
 * A device link code, stored only as its SHA-256. A new device redeems it once: with the password
 * it links at once; without, the request waits for approval and is completed with a second secret.
 */
export interface LinkCode {
  id: string;
  user: User;
  /** The device that made the code. */
  createdByDeviceId: number;
  codeHash: string;
  createdAt: Date;
  expiresAt: Date;
  /** Set when a new device asked to link without the password. */
  requestedAt?: Date | null;
  requestedDeviceName?: string | null;
  requestedRegistrationId?: number | null;
  /** The identity key the requesting device stated: the approval is for it alone. */
  requestedIdentityKey?: Buffer | null;
  approvalSecretHash?: string | null;
  approvedAt?: Date | null;
  /** Set when a device was linked with it; the code is spent. */
  redeemedAt?: Date | null;
}

export const LinkCodeSchema = new EntitySchema<LinkCode>({
  name: 'LinkCode',
  tableName: 'link_code',
  properties: {
    id: { type: 'uuid', primary: true },
    user: { kind: 'm:1', entity: () => UserSchema, deleteRule: 'cascade', index: true },
    createdByDeviceId: { type: 'smallint' },
    codeHash: { type: 'text', unique: true },
    createdAt: { type: 'datetime' },
    expiresAt: { type: 'datetime' },
    requestedAt: { type: 'datetime', nullable: true },
    requestedDeviceName: { type: 'text', nullable: true },
    requestedRegistrationId: { type: 'integer', nullable: true },
    requestedIdentityKey: { type: 'blob', nullable: true },
    approvalSecretHash: { type: 'text', nullable: true, unique: true },
    approvedAt: { type: 'datetime', nullable: true },
    redeemedAt: { type: 'datetime', nullable: true },
  },
});
