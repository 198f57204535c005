import type { EntityManager } from '@mikro-orm/postgresql';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ManualClock, TEST_NATS_URL, TestIsolation, eventually, metricValue, startThrowawayNats, type ThrowawayNats } from '@parley/testing';
import { pino } from 'pino';
import { connectNats, type NatsConnection } from '../src/bus/nats.js';
import { ensureEventStream } from '../src/bus/stream.js';
import { openDatabase, type MikroORM } from '../src/db/database.js';
import { events } from '../src/events/catalog.js';
import { decodeEvent } from '../src/events/envelope.js';
import { createMetrics } from '../src/observability/metrics.js';
import { outboxMetrics } from '../src/outbox/outbox-metrics.js';
import { Outbox } from '../src/outbox/outbox.js';
import { OutboxRelay, type OutboxRelayOptions } from '../src/outbox/outbox-relay.js';
import { testMigrations } from './support/test-migrations.js';

const log = pino({ level: 'silent' });
const isolation = new TestIsolation();
const outbox = new Outbox('outbox-test', isolation.subjects);

let orm: MikroORM;
let nc: NatsConnection;
let jsm: JetStreamManager;
/** The relay the ORM's commit hook wakes; one per test. */
let relay: OutboxRelay | undefined;

beforeAll(async () => {
  orm = await openDatabase(
    { entities: [], migrations: testMigrations },
    {
      url: isolation.databaseUrl('outbox'),
      createIfMissing: true,
      poolMax: 5,
      subscribers: [OutboxRelay.commitSubscriber(() => relay)],
    },
  );
  nc = await connect({ servers: TEST_NATS_URL });
  jsm = await ensureEventStream(nc, isolation.subjects, 1);
});

afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

afterAll(async () => {
  await orm?.close(true);
  await nc?.close();
  await isolation.cleanup([TEST_NATS_URL]);
});

function startRelay(conn: NatsConnection, opts: OutboxRelayOptions = {}) {
  const metrics = createMetrics('outbox-test');
  relay = new OutboxRelay(orm, conn, log, metrics, opts);
  relay.start();
  return metrics;
}

/** Commits one transaction that records `count` events; returns their ids in the order added. */
async function commitEvents(count: number, tag: string, extra?: (em: EntityManager) => Promise<void>): Promise<string[]> {
  return orm.em.fork().transactional(async (em) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(outbox.add(em, events.userRegistered, { userId: `${tag}-${i}`, username: tag }));
    await extra?.(em);
    return ids;
  });
}

async function outboxRows(): Promise<number> {
  const [row] = await orm.em.fork().getConnection().execute<{ n: number }[]>('select count(*)::int as n from outbox_event');
  return row!.n;
}

async function lastSeq(manager: JetStreamManager = jsm): Promise<number> {
  return (await manager.streams.info(isolation.subjects.stream)).state.last_seq;
}

/** The envelope ids stored in the stream after `afterSeq`, in stream order. */
async function storedIds(afterSeq: number, manager: JetStreamManager = jsm): Promise<string[]> {
  const ids: string[] = [];
  const last = await lastSeq(manager);
  for (let seq = afterSeq + 1; seq <= last; seq++) {
    const msg = await manager.streams.getMessage(isolation.subjects.stream, { seq });
    if (msg) ids.push(decodeEvent(events.userRegistered, msg.data).envelope.id);
  }
  return ids;
}

describe('outbox relay', () => {
  it('reports outbox lag: the events waiting and the age of the oldest, until they are published', async () => {
    const metrics = createMetrics('outbox-test');
    outboxMetrics(metrics, orm);
    const lag = async () => {
      const text = await metrics.registry.metrics();
      return { pending: metricValue(text, 'parley_outbox_pending_events'), age: metricValue(text, 'parley_outbox_oldest_event_age_seconds') };
    };
    // No relay runs yet: the events wait, and the oldest ages.
    await commitEvents(2, 'lag');
    const waiting = await eventually(lag, (l) => l.age > 0);
    expect(waiting.pending).toBe(await outboxRows());
    expect(waiting.pending).toBeGreaterThanOrEqual(2);

    startRelay(nc);
    expect(await eventually(lag, (l) => l.pending === 0)).toEqual({ pending: 0, age: 0 });
  });

  it('publishes every committed event exactly once, in commit order, woken by the commit', async () => {
    const from = await lastSeq();
    // The idle poll waits on a clock nobody moves: only the commit hook can make the relay publish.
    startRelay(nc, { clock: new ManualClock() });
    const committed: string[] = [];
    for (const size of [1, 10, 4, 20, 15]) committed.push(...(await commitEvents(size, `order-${committed.length}`)));
    expect(committed).toHaveLength(50);

    const ids = await eventually(
      () => storedIds(from),
      (got) => got.length >= 50,
    );
    expect(ids).toEqual(committed);
    expect(await outboxRows()).toBe(0);
    // Nothing else trickles in after the relay went idle.
    expect(await lastSeq()).toBe(from + 50);
  });

  it('never publishes the event of a rolled-back transaction', async () => {
    const from = await lastSeq();
    startRelay(nc, { idlePollMs: 50 });
    let rolledBack: string[] = [];
    await expect(
      commitEvents(3, 'rollback', async (em) => {
        // Flushed inside the transaction: the rows exist, but only for it.
        await em.flush();
        rolledBack = await outboxIdsIn(em);
        throw new Error('business rule violated');
      }),
    ).rejects.toThrow('business rule violated');
    expect(rolledBack).toHaveLength(3);
    const marker = await commitEvents(1, 'after-rollback');

    // The stream is ordered, so once the later event is there the earlier one never will be.
    const ids = await eventually(
      () => storedIds(from),
      (got) => got.includes(marker[0]!),
    );
    expect(ids).toEqual(marker);
    expect(await outboxRows()).toBe(0);
  });

  it('lets the stream drop a re-publish of an id it already has', async () => {
    const from = await lastSeq();
    startRelay(nc, { idlePollMs: 50 });
    const [id] = await commitEvents(1, 'dedupe');
    await eventually(outboxRows, (n) => n === 0);

    // As after a crash between publish and delete: the same row shows up again.
    const stored = await jsm.streams.getMessage(isolation.subjects.stream, { seq: from + 1 });
    await orm.em
      .fork()
      .getConnection()
      .execute('insert into outbox_event (id, subject, payload, created_at) values (?, ?, ?, now())', [
        id,
        isolation.subjects.of(events.userRegistered),
        Buffer.from(stored!.data),
      ]);
    await eventually(outboxRows, (n) => n === 0);
    expect(await storedIds(from)).toEqual([id]);
  });

  it('shares the work between replicas without publishing a row twice', async () => {
    const from = await lastSeq();
    const a = startRelay(nc, { idlePollMs: 20, batchSize: 5 });
    const b = createMetrics('outbox-test');
    const other = new OutboxRelay(orm, nc, log, b, { idlePollMs: 20, batchSize: 5 });
    other.start();
    try {
      const committed: string[] = [];
      for (let t = 0; t < 6; t++) committed.push(...(await commitEvents(10, `replicas-${t}`)));
      await eventually(outboxRows, (n) => n === 0);
      expect((await storedIds(from)).sort()).toEqual([...committed].sort());
      // The stream would drop a second publish by msg-id, so count what the relays sent.
      const sent = async (m: typeof a) => (await m.registry.getSingleMetric('parley_outbox_published_total')?.get())?.values[0]?.value ?? 0;
      expect((await sent(a)) + (await sent(b))).toBe(60);
    } finally {
      await other.stop();
    }
  });
});

/** Ids of the outbox rows `em` sees; inside a transaction, that includes its own. */
async function outboxIdsIn(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<{ id: string }[]>('select id from outbox_event');
  return rows.map((r) => r.id);
}

describe('outbox relay drain', () => {
  it('resolves true only once the events committed before the call are in the stream', async () => {
    // The idle poll and the drain's timeout wait on a clock nobody moves: only the drain request's
    // wake-up can get the events out, and however slow that is, the wait cannot time out first.
    startRelay(nc, { clock: new ManualClock() });
    const before = await lastSeq();
    const ids = await commitEvents(3, 'drained');
    await expect(relay!.drained(5000)).resolves.toBe(true);
    expect(await storedIds(before)).toEqual(ids);
  });

  it('resolves true at once when nothing is pending, and false when the relay stops first', async () => {
    startRelay(nc, { clock: new ManualClock() });
    await expect(relay!.drained(5000)).resolves.toBe(true);
    const pending = relay!.drained(60_000);
    await relay!.stop();
    await expect(pending).resolves.toBe(false);
  });
});

describe('outbox relay during a NATS outage', () => {
  let server: ThrowawayNats;
  let faultNc: NatsConnection;
  let faultJsm: JetStreamManager;

  beforeAll(async () => {
    server = await startThrowawayNats();
    faultNc = await connectNats(server.url, 'outbox-test', log);
    faultJsm = await ensureEventStream(faultNc, isolation.subjects, 1);
  });

  afterAll(async () => {
    await faultNc?.close();
    await server?.dispose();
  });

  it('keeps events through the outage, backing off, and publishes each exactly once after it', async () => {
    // The backoff waits on this clock: the test sees each wait the relay chose, and ends it.
    const clock = new ManualClock();
    const metrics = startRelay(faultNc, { idlePollMs: 50, maxBackoffMs: 500, clock });
    const failures = async () => (await metrics.registry.getSingleMetric('parley_outbox_publish_failures_total')?.get())?.values[0]?.value ?? 0;
    const first = await commitEvents(1, 'before-outage');
    await eventually(() => storedIds(0, faultJsm), (ids) => ids.length === 1);
    expect(await storedIds(0, faultJsm)).toEqual(first);

    await server.stop();
    const committed: string[] = [];
    for (let t = 0; t < 4; t++) committed.push(...(await commitEvents(5, `outage-${t}`)));

    // The relay has tried and failed; the events wait in the outbox, and it waits 200 ms to retry.
    await eventually(failures, (n) => n >= 1);
    expect(await outboxRows()).toBe(20);
    expect(clock.pending()).toEqual([200]);

    // Nothing can be drained while NATS is down: the wait gives up rather than hang. New commits
    // (and the drain's wake-up) do not cut the backoff short; its end starts the second try.
    const drained = relay!.drained(300);
    clock.advance(300);
    await expect(drained).resolves.toBe(false);
    await eventually(failures, (n) => n >= 2);
    expect(clock.pending()).toEqual([400]);
    clock.advance(400);
    await eventually(failures, (n) => n >= 3);
    expect(clock.pending()).toEqual([500]);
    expect(await outboxRows()).toBe(20);

    await server.restart();
    // Each look moves the clock past any backoff, so the relay retries until NATS takes the events.
    await eventually(
      async () => {
        clock.advance(500);
        return outboxRows();
      },
      (n) => n === 0,
    );
    expect(await storedIds(0, faultJsm)).toEqual([...first, ...committed]);
    expect((await faultJsm.streams.info(isolation.subjects.stream)).state.messages).toBe(21);
  }, 120_000);
});
