import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';

export const deviceAddedConsumer = defineConsumer({
  name: 'device-added',
  eventType: events.deviceAdded,
  async handle(em, { userId, deviceId, registrationId, identityKey }, envelope) {
    const at = changedAt(envelope);
    const linkedIdentityKey = identityKey.length > 0 ? Buffer.from(identityKey) : null;
    await em.upsert(DeviceProjectionSchema, { userId, deviceId, registrationId, linkedIdentityKey, active: true, changedAt: at }, ifNotOlder(at));
  },
});
