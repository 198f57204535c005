import { defineConsumer, events } from '@parley/platform';
import { BlockProjectionSchema } from '../../domain/block-projection.entity.js';

export const userUnblockedConsumer = defineConsumer({
  name: 'user-unblocked',
  eventType: events.userUnblocked,
  async handle(em, { blockerId, blockedId }) {
    await em.nativeDelete(BlockProjectionSchema, { blockerId, blockedId });
  },
});
