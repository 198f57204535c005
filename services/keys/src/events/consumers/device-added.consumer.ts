import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';

export const deviceAddedConsumer = defineConsumer({
  name: 'device-added',
  eventType: events.deviceAdded,
  async handle(em, { userId, deviceId, registrationId }, envelope) {
    const at = changedAt(envelope);
    await em.upsert(DeviceProjectionSchema, { userId, deviceId, registrationId, active: true, changedAt: at }, ifNotOlder(at));
  },
});
