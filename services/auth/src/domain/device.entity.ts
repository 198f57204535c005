import { EntitySchema } from '@mikro-orm/core';
import { UserSchema, type User } from './user.entity.js';

/** A device of an account. Unlinking deletes it, and with it its sessions. */
export interface Device {
  id: string;
  user: User;
  /** libsignal's device id: 1 for the primary device, 2 to MAX_DEVICE_ID for linked ones. */
  deviceId: number;
  name: string;
  /** The device's Signal registration id, 1 to MAX_REGISTRATION_ID. */
  registrationId: number;
  /** SHA-256 of the device's own credential (device-secrets.ts); null for a device made before there were any. */
  secretHash?: string | null;
  createdAt: Date;
}

export const PRIMARY_DEVICE_ID = 1;

export const DeviceSchema = new EntitySchema<Device>({
  name: 'Device',
  tableName: 'device',
  uniques: [{ properties: ['user', 'deviceId'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    user: { kind: 'm:1', entity: () => UserSchema, deleteRule: 'cascade' },
    deviceId: { type: 'smallint' },
    name: { type: 'text' },
    registrationId: { type: 'integer' },
    secretHash: { type: 'text', nullable: true },
    createdAt: { type: 'datetime' },
  },
});
