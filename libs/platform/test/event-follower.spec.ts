import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { TEST_NATS_URL, TestIsolation, eventually } from '@parley/testing';
import { pino } from 'pino';
import { followEvents, type EventFollower } from '../src/bus/event-follower.js';
import { ensureEventStream } from '../src/bus/stream.js';
import { events } from '../src/events/catalog.js';
import { encodeEnvelope, packEvent } from '../src/events/envelope.js';

const log = pino({ level: 'silent' });
const isolation = new TestIsolation();
let nc: NatsConnection;
const followers: EventFollower[] = [];

beforeAll(async () => {
  nc = await connect({ servers: TEST_NATS_URL });
  await ensureEventStream(nc, isolation.subjects, 1);
});

afterEach(async () => {
  await Promise.all(followers.splice(0).map((f) => f.stop()));
});

afterAll(async () => {
  await nc?.close();
  await isolation.cleanup([TEST_NATS_URL]);
});

async function publishRevocation(sessionIds: string[]): Promise<void> {
  const envelope = packEvent('test', events.sessionsRevoked, { userId: 'u1', sessionIds });
  await jetstream(nc).publish(isolation.subjects.of(events.sessionsRevoked), encodeEnvelope(envelope), { msgID: envelope.id });
}

async function follow(since: Date, seen: string[]): Promise<EventFollower> {
  const follower = await followEvents(nc, isolation.subjects, events.sessionsRevoked, { since, log }, (payload) => seen.push(...payload.sessionIds));
  followers.push(follower);
  return follower;
}

describe('followEvents', () => {
  it('replays what was published since the start time before it reports caught up, then follows live', async () => {
    const since = new Date();
    await publishRevocation(['s1']);
    await publishRevocation(['s2', 's3']);
    // Another type on the same stream is not this follower's business.
    const other = packEvent('test', events.accountDeleted, { userId: 'u1' });
    await jetstream(nc).publish(isolation.subjects.of(events.accountDeleted), encodeEnvelope(other));

    const seen: string[] = [];
    const follower = await follow(since, seen);
    await follower.caughtUp;
    expect(seen).toEqual(['s1', 's2', 's3']);

    await publishRevocation(['s4']);
    await eventually(async () => [...seen], (s) => s.length === 4);
    expect(seen).toEqual(['s1', 's2', 's3', 's4']);
  });

  it('skips events older than the start time and is caught up at once when there is nothing newer', async () => {
    await publishRevocation(['old']);
    // The start time must be later than the old event's: wait until the clock has passed it.
    const jsm = await jetstreamManager(nc);
    const old = await jsm.streams.getMessage(isolation.subjects.stream, { last_by_subj: isolation.subjects.of(events.sessionsRevoked) });
    await eventually(async () => Date.now(), (now) => now > old!.time.getTime());
    const seen: string[] = [];
    const follower = await follow(new Date(), seen);
    await follower.caughtUp;
    await publishRevocation(['new']);
    await eventually(async () => [...seen], (s) => s.length === 1);
    expect(seen).toEqual(['new']);
  });
});
