import type { EntityManager } from '@mikro-orm/postgresql';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { EventEnvelope } from '@parley/proto';
import { TEST_NATS_URL, TestIsolation, eventually, metricValue, startThrowawayNats, type ThrowawayNats } from '@parley/testing';
import { pino } from 'pino';
import { connectNats, type NatsConnection } from '../src/bus/nats.js';
import { ensureEventStream } from '../src/bus/stream.js';
import type { Subjects } from '../src/bus/subjects.js';
import { IdempotentConsumer, defineConsumer, retryDelayMs } from '../src/consumer/idempotent-consumer.js';
import { openDatabase, type MikroORM } from '../src/db/database.js';
import { events } from '../src/events/catalog.js';
import { encodeEnvelope, packEvent } from '../src/events/envelope.js';
import { createMetrics, type Metrics } from '../src/observability/metrics.js';
import { testMigrations } from './support/test-migrations.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const MAX_ATTEMPTS = 3;
const db = new TestIsolation();
/** One bus isolation (stream) per consumer under test, so no test sees another's events. */
const buses: Array<{ isolation: TestIsolation; natsUrl: string }> = [];
const running: IdempotentConsumer[] = [];

let orm: MikroORM;
let nc: NatsConnection;

/** Handler deliveries per event id, whether or not their transaction committed. */
const attempts = new Map<string, number>();
/** Event ids whose after-commit callback ran. */
const afterCommits: string[] = [];

/**
 * Records each attempt in handler_write inside the consumer's transaction, then behaves as the
 * username says: "ok" succeeds, "flaky" fails its first two attempts, "broken" always fails,
 * "outage" fails one attempt more than the consumer's maximum as PostgreSQL does while it starts up.
 */
const userProjection = defineConsumer({
  name: 'user-projection',
  eventType: events.userRegistered,
  async handle(em, payload, envelope) {
    const attempt = (attempts.get(envelope.id) ?? 0) + 1;
    attempts.set(envelope.id, attempt);
    await (em as EntityManager).execute('insert into handler_write (consumer, event_id, attempt, user_id) values (?, ?, ?, ?)', [
      'user-projection',
      envelope.id,
      attempt,
      payload.userId,
    ]);
    if (payload.username === 'broken') throw new Error(`projection broken for ${payload.userId}`);
    if (payload.username === 'flaky' && attempt <= 2) throw new Error(`flaky attempt ${attempt}`);
    if (payload.username === 'outage' && attempt <= MAX_ATTEMPTS) throw Object.assign(new Error('the database system is starting up'), { code: '57P03' });
    return () => afterCommits.push(envelope.id);
  },
});

interface Running {
  consumer: IdempotentConsumer;
  metrics: Metrics;
  subjects: Subjects;
  jsm: JetStreamManager;
}

async function startConsumer(conn: NatsConnection = nc, natsUrl = TEST_NATS_URL, bus = new TestIsolation()): Promise<Running> {
  buses.push({ isolation: bus, natsUrl });
  const metrics = createMetrics('consumer-test');
  const consumer = new IdempotentConsumer(userProjection, {
    service: 'consumer-test',
    orm,
    nc: conn,
    subjects: bus.subjects,
    streamReplicas: 1,
    maxAttempts: MAX_ATTEMPTS,
    log,
    metrics,
  });
  await consumer.start();
  running.push(consumer);
  return { consumer, metrics, subjects: bus.subjects, jsm: await jetstreamManager(conn) };
}

async function publish(conn: NatsConnection, subjects: Subjects, data: Uint8Array, msgID: string): Promise<void> {
  // A short timeout so a publish lost while the client reconnects is retried soon.
  await jetstream(conn, { timeout: 1000 }).publish(subjects.of(events.userRegistered), data, { msgID });
}

function event(userId: string, username: string): EventEnvelope {
  return packEvent('consumer-test', events.userRegistered, { userId, username });
}

type Outcomes = Record<'applied' | 'duplicate' | 'retried' | 'dead_lettered', number>;

async function outcomes(r: Running): Promise<Outcomes> {
  const text = await r.metrics.registry.metrics();
  const count = (outcome: string) => metricValue(text, 'parley_events_consumed_total', { consumer: r.consumer.durable, outcome });
  return { applied: count('applied'), duplicate: count('duplicate'), retried: count('retried'), dead_lettered: count('dead_lettered') };
}

async function writes(eventId: string): Promise<number[]> {
  const rows = await orm.em.fork().execute<{ attempt: number }[]>('select attempt from handler_write where event_id = ? order by attempt', [eventId]);
  return rows.map((r) => r.attempt);
}

async function processed(r: Running, eventId: string): Promise<number> {
  const rows = await orm.em
    .fork()
    .execute<{ n: number }[]>('select count(*)::int as n from processed_event where consumer = ? and event_id = ?', [r.consumer.durable, eventId]);
  return rows[0]!.n;
}

beforeAll(async () => {
  orm = await openDatabase(
    { entities: [], migrations: testMigrations },
    { url: db.databaseUrl('consumer'), createIfMissing: true, poolMax: 5 },
  );
  nc = await connect({ servers: TEST_NATS_URL });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await nc?.close();
  await orm?.close(true);
  await db.cleanup([]);
  // Streams on the throwaway servers went with their store directories.
  for (const { isolation, natsUrl } of buses) if (natsUrl === TEST_NATS_URL) await isolation.cleanup([natsUrl]);
});

describe('idempotent consumer', () => {
  it('applies an event published twice under different msg-ids once', async () => {
    const r = await startConsumer();
    const e = event('u-dup', 'ok');
    const bytes = encodeEnvelope(e);
    // Different msg-ids get past the stream's dedupe; only the consumer can catch this.
    await publish(nc, r.subjects, bytes, `${e.id}-a`);
    await publish(nc, r.subjects, bytes, `${e.id}-b`);

    const seen = await eventually(
      () => outcomes(r),
      (o) => o.applied + o.duplicate >= 2,
    );
    expect(seen).toEqual({ applied: 1, duplicate: 1, retried: 0, dead_lettered: 0 });
    expect(await writes(e.id)).toEqual([1]);
    expect(await processed(r, e.id)).toBe(1);
    expect(afterCommits.filter((id) => id === e.id)).toHaveLength(1);
  });

  it('retries a failing handler and keeps only the writes of the attempt that succeeded', async () => {
    const r = await startConsumer();
    const e = event('u-flaky', 'flaky');
    await publish(nc, r.subjects, encodeEnvelope(e), e.id);

    const seen = await eventually(
      () => outcomes(r),
      (o) => o.applied >= 1,
    );
    expect(seen).toEqual({ applied: 1, duplicate: 0, retried: 2, dead_lettered: 0 });
    expect(attempts.get(e.id)).toBe(3);
    // Attempts 1 and 2 wrote a row each, then threw: their transactions rolled back.
    expect(await writes(e.id)).toEqual([3]);
    expect(await processed(r, e.id)).toBe(1);
    // Only the attempt that committed ran its after-commit work.
    expect(afterCommits.filter((id) => id === e.id)).toHaveLength(1);
  });

  it(`dead-letters an event whose handler fails ${MAX_ATTEMPTS} times, with the reason`, async () => {
    const r = await startConsumer();
    const e = event('u-broken', 'broken');
    const bytes = encodeEnvelope(e);
    await publish(nc, r.subjects, bytes, e.id);

    const seen = await eventually(
      () => outcomes(r),
      (o) => o.dead_lettered >= 1,
    );
    expect(seen).toEqual({ applied: 0, duplicate: 0, retried: MAX_ATTEMPTS - 1, dead_lettered: 1 });
    expect(attempts.get(e.id)).toBe(MAX_ATTEMPTS);
    expect(await writes(e.id)).toEqual([]);
    expect(await processed(r, e.id)).toBe(0);
    expect(afterCommits).not.toContain(e.id);

    const dead = await r.jsm.streams.getMessage(r.subjects.stream, { last_by_subj: r.subjects.deadLetter(r.consumer.durable) });
    expect(Buffer.from(dead!.data).equals(Buffer.from(bytes))).toBe(true);
    expect(dead!.header.get('Parley-Dead-Letter-Reason')).toBe('projection broken for u-broken');
    expect(dead!.header.get('Parley-Original-Subject')).toBe(r.subjects.of(events.userRegistered));

    // Terminated, not left to be redelivered.
    const info = await eventually(
      () => r.jsm.consumers.info(r.subjects.stream, r.consumer.durable),
      (i) => i.num_ack_pending === 0,
    );
    expect(info.num_pending).toBe(0);
  });

  it(`retries an event past ${MAX_ATTEMPTS} attempts while the database is unavailable, and never dead-letters it for that`, async () => {
    const r = await startConsumer();
    const e = event('u-outage', 'outage');
    await publish(nc, r.subjects, encodeEnvelope(e), e.id);

    const seen = await eventually(
      () => outcomes(r),
      (o) => o.applied + o.dead_lettered >= 1,
      60_000,
    );
    expect(seen).toEqual({ applied: 1, duplicate: 0, retried: MAX_ATTEMPTS, dead_lettered: 0 });
    expect(attempts.get(e.id)).toBe(MAX_ATTEMPTS + 1);
    expect(await writes(e.id)).toEqual([MAX_ATTEMPTS + 1]);
    expect(await processed(r, e.id)).toBe(1);
  });

  it('dead-letters bytes that are not an event at once, without calling the handler', async () => {
    const r = await startConsumer();
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01]);
    await publish(nc, r.subjects, garbage, 'garbage-1');
    const ok = event('u-after-garbage', 'ok');
    await publish(nc, r.subjects, encodeEnvelope(ok), ok.id);

    const seen = await eventually(
      () => outcomes(r),
      (o) => o.dead_lettered + o.applied >= 2,
    );
    expect(seen).toEqual({ applied: 1, duplicate: 0, retried: 0, dead_lettered: 1 });
    const dead = await r.jsm.streams.getMessage(r.subjects.stream, { last_by_subj: r.subjects.deadLetter(r.consumer.durable) });
    expect(Buffer.from(dead!.data).equals(Buffer.from(garbage))).toBe(true);
    expect(dead!.header.get('Parley-Dead-Letter-Reason')).not.toBe('');
    // The event behind it still got through.
    expect(await writes(ok.id)).toEqual([1]);
  });

  it('resumes where it left off when restarted, without re-applying', async () => {
    const bus = new TestIsolation();
    const first = await startConsumer(nc, TEST_NATS_URL, bus);
    const before = event('u-before-restart', 'ok');
    await publish(nc, first.subjects, encodeEnvelope(before), before.id);
    await eventually(() => outcomes(first), (o) => o.applied >= 1);
    await first.consumer.stop();

    // A new process: same durable, so ensureConsumer updates the existing one.
    const second = await startConsumer(nc, TEST_NATS_URL, bus);
    const after = event('u-after-restart', 'ok');
    await publish(nc, second.subjects, encodeEnvelope(after), after.id);
    const seen = await eventually(
      () => outcomes(second),
      (o) => o.applied >= 1,
    );
    expect(seen).toEqual({ applied: 1, duplicate: 0, retried: 0, dead_lettered: 0 });
    expect(await writes(before.id)).toEqual([1]);
    expect(await writes(after.id)).toEqual([1]);
  });
  it('reports its lag: the events on the stream it has not handled yet', async () => {
    const bus = new TestIsolation();
    const first = await startConsumer(nc, TEST_NATS_URL, bus);
    await first.consumer.stop();
    // Stopped, as while a process is down: what is published waits for the durable.
    for (const e of [event('u-lag-1', 'ok'), event('u-lag-2', 'ok')]) await publish(nc, first.subjects, encodeEnvelope(e), e.id);
    expect(await first.consumer.pending()).toBe(2);

    const second = await startConsumer(nc, TEST_NATS_URL, bus);
    await eventually(() => outcomes(second), (o) => o.applied >= 2);
    expect(await eventually(() => second.consumer.pending(), (n) => n === 0)).toBe(0);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 400 ms after the first failure, up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelayMs)).toEqual([400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  });
});

describe('idempotent consumer across a NATS restart', () => {
  let server: ThrowawayNats;
  let faultNc: NatsConnection;

  beforeAll(async () => {
    server = await startThrowawayNats();
    faultNc = await connectNats(server.url, 'consumer-test', log);
  });

  afterAll(async () => {
    await faultNc?.close();
    await server?.dispose();
  });

  it('applies events published after the server came back', async () => {
    const bus = new TestIsolation();
    await ensureEventStream(faultNc, bus.subjects, 1);
    const r = await startConsumer(faultNc, server.url, bus);
    const before = event('u-before-outage', 'ok');
    await publish(faultNc, r.subjects, encodeEnvelope(before), before.id);
    await eventually(() => outcomes(r), (o) => o.applied >= 1);

    await server.stop();
    await server.restart();
    const after = event('u-after-outage', 'ok');
    // The client may not have reconnected yet; the publish itself is not under test.
    await eventually(
      () => publish(faultNc, r.subjects, encodeEnvelope(after), after.id).then(() => true, () => false),
      (ok) => ok,
    );
    const seen = await eventually(
      () => outcomes(r),
      (o) => o.applied >= 2,
      30_000,
    );
    expect(seen).toEqual({ applied: 2, duplicate: 0, retried: 0, dead_lettered: 0 });
    expect(await writes(after.id)).toEqual([1]);
  }, 120_000);
});
