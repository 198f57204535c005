import type { EntityManager } from '@mikro-orm/postgresql';
import { defineConsumer, events, sqlRows } from '@parley/platform';

/** Contacts aren't strangers: the new-account rule counts only direct messages to non-contacts. */
export const contactAddedConsumer = defineConsumer({
  name: 'contact-added',
  eventType: events.contactAdded,
  async handle(coreEm, { userId, contactUserId }) {
    await sqlRows(coreEm as EntityManager, `insert into contact_pair (user_id, contact_user_id) values (?, ?), (?, ?) on conflict do nothing`, [
      userId, contactUserId, contactUserId, userId,
    ]);
  },
});

export const contactRemovedConsumer = defineConsumer({
  name: 'contact-removed',
  eventType: events.contactRemoved,
  async handle(coreEm, { userId, contactUserId }) {
    await sqlRows(coreEm as EntityManager, `delete from contact_pair where (user_id = ? and contact_user_id = ?) or (user_id = ? and contact_user_id = ?)`, [
      userId, contactUserId, contactUserId, userId,
    ]);
  },
});
