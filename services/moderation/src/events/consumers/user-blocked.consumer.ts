import type { EntityManager } from '@mikro-orm/postgresql';
import { changedAt, defineConsumer, events } from '@parley/platform';
import type { ModerationDeps } from '../../deps.js';
import { recordActivity } from '../../domain/auto-moderation.js';

/** Counts blocks a user receives, for the blocks-received rule. */
export const userBlockedConsumer = (deps: Pick<ModerationDeps, 'rules' | 'outbox'>) =>
  defineConsumer({
    name: 'user-blocked',
    eventType: events.userBlocked,
    async handle(coreEm, { blockerId, blockedId }, envelope) {
      await recordActivity(coreEm as EntityManager, deps, { userId: blockedId, kind: 'block.received', peerId: blockerId, at: changedAt(envelope) });
    },
  });
