import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';

/** The device leaves the set a message must be encrypted to. */
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
  },
});
