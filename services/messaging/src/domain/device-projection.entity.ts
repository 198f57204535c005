import { BigIntType, EntitySchema } from '@mikro-orm/core';

/**
 * One device of a user, kept from auth.device.added and auth.device.revoked: the set a message's
 * envelopes must match, with the registration id each envelope must carry.
 */
export interface DeviceProjection {
  userId: string;
  deviceId: number;
  registrationId: number;
  /** False once revoked: the row stays so an older auth.device.added arriving late can't revive it. */
  active: boolean;
  /** When auth made the change this row reflects. */
  changedAt: Date;
  /**
   * The queue position last given to a delivery for this device. Positions are assigned under
   * this row's lock, so they are gapless and in commit order: the edge can tell a delivery that
   * follows the last one it sent from one that skipped a lost signal.
   */
  queueSeq: number;
  /**
   * The undelivered items in this device's queue and their bytes, for its quota: raised by whatever
   * queues, in the update that gives the queue position; lowered by a trigger on queued_delivery's deletes.
   */
  queuedCount: number;
  queuedBytes: number;
}

export const DeviceProjectionSchema = new EntitySchema<DeviceProjection>({
  name: 'DeviceProjection',
  tableName: 'device_projection',
  properties: {
    userId: { type: 'uuid', primary: true },
    deviceId: { type: 'smallint', primary: true },
    registrationId: { type: 'integer' },
    active: { type: 'boolean' },
    changedAt: { type: 'datetime' },
    queueSeq: { type: new BigIntType('number'), default: 0 },
    queuedCount: { type: 'integer', default: 0 },
    queuedBytes: { type: new BigIntType('number'), default: 0 },
  },
});
