import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { events } from '@parley/platform';
import { AuthService } from '@parley/proto';
import { grpcHealthCheck } from '@parley/stack';
import { PASSWORD, edgeClient, eventually, metricValue, startTestStack, startThrowawayNats, type TestStack, type ThrowawayNats } from '@parley/testing';

// This test stops and restarts NATS, so it runs its own throwaway nats-server, never the shared one.
let nats: ThrowawayNats;
let stack: TestStack;

beforeAll(async () => {
  nats = await startThrowawayNats();
  stack = await startTestStack({ services: ['auth', 'messaging', 'edge'], natsUrl: nats.url });
});

afterAll(async () => {
  await nats?.restart().catch(() => undefined);
  await stack?.cleanup();
  await nats?.dispose();
});

/** Each service's gRPC health: NOT_SERVING while it can't reach NATS, so readiness takes it out of its Service. */
const healthOfAll = async () =>
  Promise.all((['auth', 'messaging', 'edge'] as const).map((name) => grpcHealthCheck(`127.0.0.1:${stack.services[name].rpcPort}`).catch(() => 'UNREACHABLE')));

const projected = () => stack.query<{ n: string }>('messaging', 'select count(*) as n from user_projection').then((r) => Number(r[0]!.n));

it('registrations succeed while NATS is down, and each auth.user.registered reaches messaging exactly once when it returns', async () => {
  const auth = edgeClient(AuthService, stack.edgeUrl);
  await auth.register({ username: 'before_outage', password: PASSWORD, registrationId: 1234 });
  await eventually(projected, (n) => n === 1);

  await nats.stop();
  await eventually(healthOfAll, (statuses) => statuses.every((s) => s === 'NOT_SERVING'));
  const names = Array.from({ length: 12 }, (_, i) => `during_outage_${i}`);
  const registered = await Promise.all(names.map((username) => auth.register({ username, password: PASSWORD, registrationId: 1234 })));
  expect(registered.map((r) => r.user?.username)).toEqual(names);
  // The events wait in auth's outbox, committed with the accounts: auth.user.registered and the primary device's auth.device.added.
  const waiting = await stack.query('auth', 'select id from outbox_event');
  expect(waiting).toHaveLength(2 * names.length);
  expect(await projected()).toBe(1);

  await nats.restart();
  await eventually(healthOfAll, (statuses) => statuses.every((s) => s === 'SERVING'));
  await eventually(projected, (n) => n === names.length + 1, 60_000);
  await eventually(() => stack.query('auth', 'select id from outbox_event'), (rows) => rows.length === 0);

  // Once the consumer has nothing pending, count what happened: one stream message and one application per event.
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const consumers = await jsm.consumers.list(stack.isolation.subjects.stream).next();
    const consumer = consumers.find((c) => c.config.filter_subject === stack.isolation.subjects.of(events.userRegistered));
    expect(consumer).toBeDefined();
    await eventually(
      () => jsm.consumers.info(stack.isolation.subjects.stream, consumer!.name),
      (info) => info.num_pending === 0 && info.num_ack_pending === 0,
    );
    const stream = await jsm.streams.info(stack.isolation.subjects.stream, { subjects_filter: '>' });
    expect(stream.state.subjects?.[stack.isolation.subjects.of(events.userRegistered)]).toBe(names.length + 1);
  } finally {
    await nc.close();
  }
  const processed = await stack.query<{ event_id: string }>('messaging', "select event_id from processed_event where consumer = 'messaging_user-projection'");
  expect(new Set(processed.map((r) => r.event_id)).size).toBe(names.length + 1);
  const metrics = await stack.metrics('messaging');
  expect(metricValue(metrics, 'parley_events_consumed_total', { consumer: 'messaging_user-projection', outcome: 'applied' })).toBe(names.length + 1);
  const users = await stack.query<{ username: string }>('messaging', 'select username from user_projection order by username');
  expect(users.map((u) => u.username).sort()).toEqual(['before_outage', ...names].sort());
});
