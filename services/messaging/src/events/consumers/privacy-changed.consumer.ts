import { defineConsumer, events } from '@parley/platform';
import { MessagingPolicyProjectionSchema } from '../../domain/messaging-policy-projection.entity.js';

export const privacyChangedConsumer = defineConsumer({
  name: 'privacy-changed',
  eventType: events.privacyChanged,
  async handle(em, { userId, contactsOnly }) {
    await em.upsert(MessagingPolicyProjectionSchema, { userId, contactsOnly });
  },
});
