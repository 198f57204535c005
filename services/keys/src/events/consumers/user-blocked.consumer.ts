import { changedAt, defineConsumer, events, ifNotOlder } from '@parley/platform';
import { BlockProjectionSchema } from '../../domain/block-projection.entity.js';

export const userBlockedConsumer = defineConsumer({
  name: 'user-blocked',
  eventType: events.userBlocked,
  async handle(em, { blockerId, blockedId }, envelope) {
    const at = changedAt(envelope);
    await em.upsert(BlockProjectionSchema, { blockerId, blockedId, active: true, changedAt: at }, ifNotOlder(at));
  },
});
