import { defineConsumer, events } from '@parley/platform';
import { ContactProjectionSchema } from '../../domain/contact-projection.entity.js';

export const contactAddedConsumer = defineConsumer({
  name: 'contact-added',
  eventType: events.contactAdded,
  async handle(em, { userId, contactUserId }) {
    const sides = [
      { userId, contactUserId },
      { userId: contactUserId, contactUserId: userId },
    ];
    await em.upsertMany(ContactProjectionSchema, sides, { onConflictAction: 'ignore' });
  },
});
