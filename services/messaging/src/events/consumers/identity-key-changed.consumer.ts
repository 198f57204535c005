import type { EntityManager } from '@mikro-orm/postgresql';
import { defineConsumer, events } from '@parley/platform';
import type { MessagingDeps } from '../../deps.js';
import { identityKeyChanged } from '../../domain/notices.js';

/** Everyone who shares a conversation with the user, and the user's other devices, hear of the new identity key. */
export const identityKeyChangedConsumer = (deps: MessagingDeps) =>
  defineConsumer({
    name: 'identity-key-changed',
    eventType: events.identityKeyChanged,
    async handle(em, { userId, deviceId }) {
      const signal = await identityKeyChanged({ em: em as EntityManager, ttlSeconds: deps.settings.messageTtlSeconds }, userId, deviceId);
      return () => deps.live.delivered(signal);
    },
  });
