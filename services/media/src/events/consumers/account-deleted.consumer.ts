import type { EntityManager } from '@mikro-orm/postgresql';
import { RateLimiter, defineConsumer, events, sqlRows } from '@parley/platform';
import type { MediaDeps } from '../../deps.js';
import { deleteAttachmentRows } from '../../domain/delete-attachments.js';

/**
 * Forgets the user: every attachment they uploaded (rows, grants, then blobs once committed), their
 * place in every conversation's member set, and their rate limit buckets.
 */
export const accountDeletedConsumer = (deps: Pick<MediaDeps, 'store' | 'log'>) =>
  defineConsumer({
    name: 'account-deleted',
    eventType: events.accountDeleted,
    async handle(coreEm, { userId }) {
      const em = coreEm as EntityManager;
      const deleted = await deleteAttachmentRows(em, deps.store, `owner_id = ?`, [userId]);
      await sqlRows(em, `update conversation_members set member_ids = array_remove(member_ids, ?::uuid) where ?::uuid = any(member_ids)`, [userId, userId]);
      await RateLimiter.forget(em, [userId]);
      return () => void deleted.removeBlobs().catch((err: unknown) => deps.log.warn({ err, userId }, 'could not remove a deleted account\'s blobs'));
    },
  });
