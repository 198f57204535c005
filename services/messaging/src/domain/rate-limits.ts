import { RateLimiter, type ConfigOf, type MikroORM } from '@parley/platform';
import type { messagingConfigSchema } from '../config.js';

type MessagingConfig = ConfigOf<typeof messagingConfigSchema>;

/**
 * Every rate limit messaging enforces, named once; sizes come from config (see config.ts for
 * defaults). The queue quota (QUEUE_MAX_DELIVERIES, QUEUE_MAX_BYTES) is not a bucket: it is
 * checked against each device's counters inside send_messages.
 */
export interface MessagingRateLimits {
  /** SendMessage per sending user, stored and ephemeral alike; taken inside the send's own statement. */
  sendsPerSender: RateLimiter;
  /** CreateGroup calls per caller. */
  groupsCreatedPerCaller: RateLimiter;
  /** AddMembers calls per caller. */
  memberAddsPerCaller: RateLimiter;
}

export function messagingRateLimits(orm: MikroORM, config: MessagingConfig): MessagingRateLimits {
  const limit = (name: string, capacity: number, refillPerSecond: number) => new RateLimiter(orm, { name, capacity, refillPerSecond });
  return {
    sendsPerSender: limit('sends-per-sender', config.SENDS_PER_SENDER, config.SENDS_PER_SENDER_PER_MINUTE / 60),
    groupsCreatedPerCaller: limit('groups-created-per-caller', config.GROUPS_CREATED_PER_CALLER, 1 / config.GROUPS_CREATED_PER_CALLER_REFILL_SECONDS),
    memberAddsPerCaller: limit('member-adds-per-caller', config.MEMBER_ADDS_PER_CALLER, 1 / config.MEMBER_ADDS_PER_CALLER_REFILL_SECONDS),
  };
}
