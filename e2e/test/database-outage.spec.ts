import { Code } from '@connectrpc/connect';
import type { SendMessageResponse } from '@parley/proto';
import { grpcHealthCheck, type ServiceName } from '@parley/stack';
import { eventually, metricValue, startTestStack, startThrowawayPostgres, type TestStack, type ThrowawayPostgres } from '@parley/testing';
import { Inbox, Sender } from './support/delivery.js';
import { directChat, expectEachOnce, expectGapless, queuedEnvelopes, sendLoop, storedMessages } from './support/direct-chat.js';

// PostgreSQL restarts under a 1:1 load through the edge. It runs on a server of this test's own,
// never the shared one. While it is down, calls that need it answer UNAVAILABLE (which clients
// retry, a send by its client_message_id), never INTERNAL, and health says NOT_SERVING.

jest.setTimeout(300_000);

const SERVICES: ServiceName[] = ['auth', 'messaging', 'edge'];
let postgres: ThrowawayPostgres;
let stack: TestStack;
const inboxes: Inbox[] = [];
/** Lines the services logged at error level or above (pino's 50, 60). */
const errorLines: string[] = [];

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  stack = await startTestStack({
    services: SERVICES,
    pgUrl: postgres.url,
    env: { auth: { BCRYPT_COST: '4' }, messaging: { SENDS_PER_SENDER: '1000000' } },
    onLine: (name, line) => {
      if (/"level":(50|60)/.test(line)) errorLines.push(`${name} | ${line}`);
    },
  });
});

afterAll(async () => {
  await Promise.all(inboxes.splice(0).map((i) => i.stop()));
  await postgres?.restart().catch(() => undefined);
  await stack?.cleanup();
  await postgres?.dispose();
});

const health = (name: ServiceName) => grpcHealthCheck(`127.0.0.1:${stack.services[name].rpcPort}`).catch(() => 'UNREACHABLE');
const healthOfAll = async () => Object.fromEntries(await Promise.all(SERVICES.map(async (name) => [name, await health(name)])));
const handled = async (service: ServiceName, code: string) => metricValue(await stack.metrics(service), 'parley_rpc_server_handled_total', { code });

it('a restart loses and duplicates nothing, answers UNAVAILABLE and never INTERNAL, and health is NOT_SERVING while it is down', async () => {
  const chat = await directChat(stack);
  const receivers = [chat.bob, chat.bob2, chat.alice2];
  inboxes.push(...receivers.map((d) => new Inbox(d, { edgeUrl: () => stack.edgeUrl })));
  await Promise.all(inboxes.map((i) => i.start()));
  const sender = new Sender(chat.alice, stack.edgeUrl);
  const sent: SendMessageResponse[] = [];

  let healthWhileDown: Record<string, string> = {};
  let sentAtStop = 0;
  const outage = (async () => {
    await eventually(async () => sent.length, (n) => n >= 100, 120_000);
    await postgres.stop();
    sentAtStop = sent.length;
    // Down until the sender has been told to retry, and the services on the database say NOT_SERVING.
    await eventually(
      async () => ({ retried: sender.retries.get(Code.Unavailable) ?? 0, health: await healthOfAll() }),
      (s) => s.retried > 0 && s.health.auth === 'NOT_SERVING' && s.health.messaging === 'NOT_SERVING',
      60_000,
    );
    healthWhileDown = await healthOfAll();
    await postgres.restart();
  })();
  await sendLoop(sender, chat, 300, sent);
  await outage;

  // The outage landed mid-loop; the sender retried UNAVAILABLE only, by the same client_message_id.
  expect(sentAtStop).toBeLessThan(300);
  expect([...sender.retries.keys()]).toEqual([Code.Unavailable]);
  // The edge has no database: it keeps serving, and answers for its backends.
  expect(healthWhileDown).toEqual({ auth: 'NOT_SERVING', messaging: 'NOT_SERVING', edge: 'SERVING' });
  expect(await eventually(healthOfAll, (h) => Object.values(h).every((s) => s === 'SERVING'), 60_000)).toEqual({
    auth: 'SERVING',
    messaging: 'SERVING',
    edge: 'SERVING',
  });

  expectGapless(sent, 300);
  expect(await storedMessages(stack, chat.conversationId)).toBe(300);
  for (const inbox of inboxes) await inbox.untilMessages(300, 120_000);
  for (const inbox of inboxes) expectEachOnce(inbox, sent);
  for (const inbox of inboxes) expect(inbox.streamEnds.filter((end) => end === Code.Internal || end === Code.Unknown)).toEqual([]);
  expect(await queuedEnvelopes(stack, chat.conversationId, receivers)).toBe(0);

  // Nobody was answered INTERNAL and nothing was logged as an error; messaging did answer UNAVAILABLE.
  for (const service of SERVICES) expect([service, await handled(service, 'Internal'), await handled(service, 'Unknown')]).toEqual([service, 0, 0]);
  expect(await handled('messaging', 'Unavailable')).toBeGreaterThan(0);
  expect(errorLines).toEqual([]);
});
