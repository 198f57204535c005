import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events, sqlRows } from '@parley/platform';

/** Learns an account and when it was created: auth's event carries no time, so its envelope's is the account's age. */
export const userRegisteredConsumer = defineConsumer({
  name: 'user-registered',
  eventType: events.userRegistered,
  async handle(coreEm, { userId }, envelope) {
    await sqlRows(coreEm as EntityManager, `insert into moderation_user (user_id, registered_at) values (?, ?) on conflict do nothing`, [userId, changedAt(envelope)]);
  },
});
