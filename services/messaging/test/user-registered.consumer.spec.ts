import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { encodeEnvelope, events, packEvent } from '@parley/platform';
import { eventually, metricValue, startTestStack, type TestStack } from '@parley/testing';

let stack: TestStack;
let nc: NatsConnection;

beforeAll(async () => {
  stack = await startTestStack({ services: ['messaging'] });
  nc = await connect({ servers: stack.natsUrl });
});

afterAll(async () => {
  await nc?.close();
  await stack?.cleanup();
});

it('projects each registered user once, however often the event is delivered', async () => {
  const js = jetstream(nc);
  const subject = stack.isolation.subjects.of(events.userRegistered);
  const userId = randomUUID();
  const data = encodeEnvelope(packEvent('auth', events.userRegistered, { userId, username: 'carol' }));
  // Distinct msg-ids get past JetStream's dedupe, as a republish after the window would.
  await js.publish(subject, data, { msgID: randomUUID() });
  await js.publish(subject, data, { msgID: randomUUID() });
  const metrics = await eventually(
    () => stack.metrics('messaging'),
    (text) => metricValue(text, 'parley_events_consumed_total', { outcome: 'duplicate' }) === 1,
  );
  expect(metricValue(metrics, 'parley_events_consumed_total', { outcome: 'applied' })).toBe(1);
  expect(await stack.query('messaging', 'select username from user_projection where user_id = $1', [userId])).toEqual([{ username: 'carol' }]);
});

it('dead-letters an event it cannot decode and keeps consuming', async () => {
  const js = jetstream(nc);
  const subject = stack.isolation.subjects.of(events.userRegistered);
  await js.publish(subject, new TextEncoder().encode('not a protobuf envelope'));
  const userId = randomUUID();
  await js.publish(subject, encodeEnvelope(packEvent('auth', events.userRegistered, { userId, username: 'dave' })));
  await eventually(
    () => stack.query('messaging', 'select 1 from user_projection where user_id = $1', [userId]),
    (rows) => rows.length === 1,
  );
  const metrics = await stack.metrics('messaging');
  expect(metricValue(metrics, 'parley_events_consumed_total', { outcome: 'dead_lettered' })).toBe(1);
});
