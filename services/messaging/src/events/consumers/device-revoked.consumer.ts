import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events, ifNotOlder, sqlRows } from '@parley/platform';
import type { MessagingDeps } from '../../deps.js';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';
import { deviceKey } from '../../domain/message.entity.js';
import { devicesChanged } from '../../domain/notices.js';

/**
 * The device leaves the set a message must be encrypted to, and its queue goes: envelopes it never
 * acked count as dropped for their message. Its stream ends; the user's peers and other devices hear of it.
 */
export const deviceRevokedConsumer = (deps: MessagingDeps) =>
  defineConsumer({
    name: 'device-revoked',
    eventType: events.deviceRevoked,
    async handle(coreEm, { userId, deviceId }, envelope) {
      const em = coreEm as EntityManager;
      const at = changedAt(envelope);
      // registration_id 0 only fills the column when the revocation arrives before the addition.
      await em.upsert(DeviceProjectionSchema, { userId, deviceId, registrationId: 0, active: false, changedAt: at }, {
        ...ifNotOlder(at),
        onConflictMergeFields: ['active', 'changedAt'],
      });
      const key = deviceKey(userId, deviceId);
      await sqlRows(
        em,
        `with gone as (delete from queued_delivery where recipient_user_id = ? and recipient_device_id = ? returning message_id)
         update message set dropped = array_append(dropped, ?)
         where id in (select message_id from gone where message_id is not null) and not (? = any(dropped))`,
        [userId, deviceId, key, key],
      );
      const signal = await devicesChanged({ em, ttlSeconds: deps.settings.messageTtlSeconds }, userId, deviceId);
      return () => {
        deps.live.deviceGone({ userId, deviceId });
        deps.live.delivered(signal);
      };
    },
  });
