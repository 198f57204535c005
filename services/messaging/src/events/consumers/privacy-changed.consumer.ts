import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { MessagingPolicyProjectionSchema } from '../../domain/messaging-policy-projection.entity.js';

export const privacyChangedConsumer = defineConsumer({
  name: 'privacy-changed',
  eventType: events.privacyChanged,
  async handle(em, { userId, contactsOnly }, envelope) {
    const at = changedAt(envelope);
    await em.upsert(MessagingPolicyProjectionSchema, { userId, contactsOnly, changedAt: at }, ifNotOlder(at));
  },
});
