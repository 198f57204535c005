import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import type { MessagingDeps } from '../../deps.js';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';
import { devicesChanged } from '../../domain/notices.js';

/** The device joins the set a message must be encrypted to; the user's peers and other devices hear of it. */
export const deviceAddedConsumer = (deps: MessagingDeps) =>
  defineConsumer({
    name: 'device-added',
    eventType: events.deviceAdded,
    async handle(em, { userId, deviceId, registrationId }, envelope) {
      const at = changedAt(envelope);
      await em.upsert(DeviceProjectionSchema, { userId, deviceId, registrationId, active: true, changedAt: at }, ifNotOlder(at));
      const signal = await devicesChanged({ em: em as EntityManager, ttlSeconds: deps.settings.messageTtlSeconds }, userId, deviceId);
      return () => deps.live.delivered(signal);
    },
  });
