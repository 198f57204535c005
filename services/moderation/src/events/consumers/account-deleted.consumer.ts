import type { EntityManager } from '@mikro-orm/postgresql';
import { RateLimiter, defineConsumer, events, sqlRows } from '@parley/platform';

/**
 * Forgets a deleted account: it can't be reported or messaged, so its projection rows, roles,
 * counters and rate limit buckets go. Reports, cases, sanctions and the audit log keep its id: they
 * are the moderation record, and the audit log can't change.
 */
export const accountDeletedConsumer = defineConsumer({
  name: 'account-deleted',
  eventType: events.accountDeleted,
  async handle(coreEm, { userId }) {
    const em = coreEm as EntityManager;
    await sqlRows(em, `delete from moderation_user where user_id = ?`, [userId]);
    await sqlRows(em, `delete from role_grant where user_id = ?`, [userId]);
    await sqlRows(em, `delete from contact_pair where user_id = ? or contact_user_id = ?`, [userId, userId]);
    await sqlRows(em, `delete from activity where user_id = ? or peer_id = ?`, [userId, userId]);
    await sqlRows(em, `update conversation_members set member_ids = array_remove(member_ids, ?::uuid) where ?::uuid = any(member_ids)`, [userId, userId]);
    await RateLimiter.forget(em, [userId]);
  },
});
