import type { EntityManager } from '@mikro-orm/postgresql';
import { RateLimiter, defineConsumer, events, forgetSanctionStanding } from '@parley/platform';
import { BlockProjectionSchema } from '../../domain/block-projection.entity.js';
import { deleteDeviceKeys } from '../../domain/delete-keys.js';
import { DeviceProjectionSchema } from '../../domain/device-projection.entity.js';

/**
 * Forgets the user: every device's keys, the device and block read-models (either side), their
 * sanction standing, and rate limit buckets naming them. The identity log keeps its leaf hashes (see README).
 */
export const accountDeletedConsumer = defineConsumer({
  name: 'account-deleted',
  eventType: events.accountDeleted,
  async handle(em, { userId }) {
    await deleteDeviceKeys(em, { userId });
    await em.nativeDelete(BlockProjectionSchema, { $or: [{ blockerId: userId }, { blockedId: userId }] });
    await em.nativeDelete(DeviceProjectionSchema, { userId });
    await forgetSanctionStanding(em, userId);
    // Consumers run on the service's PostgreSQL driver; the handler type only names core's manager.
    await RateLimiter.forget(em as EntityManager, [userId]);
  },
});
