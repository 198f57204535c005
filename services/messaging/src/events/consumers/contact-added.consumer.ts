import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { ContactProjectionSchema } from '../../domain/contact-projection.entity.js';

export const contactAddedConsumer = defineConsumer({
  name: 'contact-added',
  eventType: events.contactAdded,
  async handle(em, { userId, contactUserId }, envelope) {
    const at = changedAt(envelope);
    for (const [a, b] of [[userId, contactUserId], [contactUserId, userId]] as const) {
      await em.upsert(ContactProjectionSchema, { userId: a, contactUserId: b, active: true, changedAt: at }, ifNotOlder(at));
    }
  },
});
