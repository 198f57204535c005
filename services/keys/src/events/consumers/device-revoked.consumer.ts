import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { deleteDeviceKeys } from '../../domain/delete-keys.js';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';

/** The device can no longer upload, and its keys are gone: nobody can start a session with it. */
export const deviceRevokedConsumer = defineConsumer({
  name: 'device-revoked',
  eventType: events.deviceRevoked,
  async handle(em, { userId, deviceId }, envelope) {
    const at = changedAt(envelope);
    // registration_id 0 only fills the column when the revocation arrives before the addition.
    await em.upsert(DeviceProjectionSchema, { userId, deviceId, registrationId: 0, active: false, changedAt: at }, {
      ...ifNotOlder(at),
      onConflictMergeFields: ['active', 'changedAt'],
    });
    // Upload needs an active projection row, and it locks that row: no upload can slip in after this.
    await deleteDeviceKeys(em, { userId, deviceId });
  },
});
