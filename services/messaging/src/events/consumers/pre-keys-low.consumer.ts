import type { EntityManager } from '@mikro-orm/postgresql';
import { defineConsumer, events } from '@parley/platform';
import type { MessagingDeps } from '../../deps.js';
import { preKeysLow } from '../../domain/notices.js';

/** Tells the device that is running out of one-time prekeys to upload more. */
export const preKeysLowConsumer = (deps: MessagingDeps) =>
  defineConsumer({
    name: 'pre-keys-low',
    eventType: events.preKeysLow,
    async handle(em, { userId, deviceId, preKeys, pqPreKeys }) {
      const signal = await preKeysLow({ em: em as EntityManager, ttlSeconds: deps.settings.messageTtlSeconds }, { userId, deviceId }, { preKeys, pqPreKeys });
      return () => deps.live.delivered(signal);
    },
  });
