import { defineConsumer, events } from '@parley/platform';
import { ContactProjectionSchema } from '../../domain/contact-projection.entity.js';

export const contactRemovedConsumer = defineConsumer({
  name: 'contact-removed',
  eventType: events.contactRemoved,
  async handle(em, { userId, contactUserId }) {
    await em.nativeDelete(ContactProjectionSchema, {
      $or: [
        { userId, contactUserId },
        { userId: contactUserId, contactUserId: userId },
      ],
    });
  },
});
