import { defineConsumer, events } from '@parley/platform';
import { BlockProjectionSchema } from '../../domain/block-projection.entity.js';

export const userBlockedConsumer = defineConsumer({
  name: 'user-blocked',
  eventType: events.userBlocked,
  async handle(em, { blockerId, blockedId }) {
    await em.upsert(BlockProjectionSchema, { blockerId, blockedId }, { onConflictAction: 'ignore' });
  },
});
