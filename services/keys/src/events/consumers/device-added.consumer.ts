import { defineConsumer, events } from '@parley/platform';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';
import { changedAt, ifNotOlder } from '../projection-version.js';

export const deviceAddedConsumer = defineConsumer({
  name: 'device-added',
  eventType: events.deviceAdded,
  async handle(em, { userId, deviceId, registrationId }, envelope) {
    const at = changedAt(envelope);
    await em.upsert(DeviceProjectionSchema, { userId, deviceId, registrationId, active: true, changedAt: at }, ifNotOlder(at));
  },
});
