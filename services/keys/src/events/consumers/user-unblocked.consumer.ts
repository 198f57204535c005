import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { BlockProjectionSchema } from '../../domain/block-projection.entity.js';

export const userUnblockedConsumer = defineConsumer({
  name: 'user-unblocked',
  eventType: events.userUnblocked,
  async handle(em, { blockerId, blockedId }, envelope) {
    const at = changedAt(envelope);
    await em.upsert(BlockProjectionSchema, { blockerId, blockedId, active: false, changedAt: at }, ifNotOlder(at));
  },
});
