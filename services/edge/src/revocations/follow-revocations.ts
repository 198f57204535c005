import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Gauge } from 'prom-client';
import { events, followEvents, type EventFollower, type ServiceContext } from '@parley/platform';
import type { RevokedSessions } from './revoked-sessions.js';

/**
 * Keeps `revoked` fed from the auth.session.revoked events. It replays the last window first, so a
 * fresh edge replica refuses what was revoked before it started. `onRevoked` hears of each
 * revocation too, e.g. to end the sessions' open streams.
 */
export async function followRevocations(
  ctx: ServiceContext<unknown>,
  revoked: RevokedSessions,
  windowMs: number,
  onRevoked: (sessionIds: readonly string[]) => void,
): Promise<EventFollower> {
  new Gauge({
    name: 'parley_edge_revoked_sessions',
    help: 'Revoked sessions whose access tokens the edge refuses until they expire',
    registers: [ctx.metrics.registry],
    collect() {
      this.set(revoked.size);
    },
  });
  const follower = await followEvents(
    ctx.nats,
    ctx.subjects,
    events.sessionsRevoked,
    { since: new Date(Date.now() - windowMs), log: ctx.log },
    (payload, envelope) => {
      revoked.add(payload.sessionIds, envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date());
      onRevoked(payload.sessionIds);
    },
  );
  await follower.caughtUp;
  return follower;
}
