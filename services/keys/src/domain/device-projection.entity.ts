import { EntitySchema } from '@mikro-orm/core';

/**
 * One device of a user, kept from auth.device.added and auth.device.revoked: which devices may upload
 * keys, and the registration id each bundle carries.
 */
export interface DeviceProjection {
  userId: string;
  deviceId: number;
  registrationId: number;
  /**
   * The identity key the device stated when it linked, which its owner approved: its first upload
   * must carry this key. Null for a primary device, which states none.
   */
  linkedIdentityKey?: Buffer | null;
  /** False once revoked: the row stays so an older auth.device.added arriving late can't revive it. */
  active: boolean;
  /** When auth made the change this row reflects. */
  changedAt: Date;
}

export const DeviceProjectionSchema = new EntitySchema<DeviceProjection>({
  name: 'DeviceProjection',
  tableName: 'device_projection',
  properties: {
    userId: { type: 'uuid', primary: true },
    deviceId: { type: 'smallint', primary: true },
    registrationId: { type: 'integer' },
    linkedIdentityKey: { type: 'blob', nullable: true },
    active: { type: 'boolean' },
    changedAt: { type: 'datetime' },
  },
});
