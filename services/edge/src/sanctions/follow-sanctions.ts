import { events, followEvents, standingOf, type EventFollower, type ServiceContext } from '@parley/platform';
import type { BannedUsers } from './banned-users.js';

/**
 * Keeps `banned` fed from moderation.sanction.changed on every replica (an ephemeral consumer, as
 * for revocations), replaying the window first. `onBanned` hears of each user banned now, at once,
 * e.g. to end their open streams without waiting for auth's revocation.
 */
export async function followSanctions(
  ctx: ServiceContext<unknown>,
  banned: BannedUsers,
  windowMs: number,
  onBanned: (userId: string) => void,
): Promise<EventFollower> {
  const follower = await followEvents(ctx.nats, ctx.subjects, events.sanctionChanged, { since: new Date(Date.now() - windowMs), log: ctx.log }, (payload) => {
    const standing = standingOf(payload);
    if (banned.apply(standing)) onBanned(standing.userId);
  });
  await follower.caughtUp;
  return follower;
}
