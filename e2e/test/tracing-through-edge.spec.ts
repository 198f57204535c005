import { randomBytes, randomUUID } from 'node:crypto';
import { AuthService, MessageService } from '@parley/proto';
import { PASSWORD, edgeClient, eventually, startOtlpReceiver, startTestStack, uniqueUsername, type OtlpReceiver, type ReceivedSpan, type TestStack } from '@parley/testing';
import { signUp } from './support/accounts.js';
import { opaqueEnvelope, openDirect, textOf } from './support/messages.js';
import { Subscription, closeAllSubscriptions } from './support/subscription.js';

let receiver: OtlpReceiver;
let stack: TestStack;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startTestStack({
    env: {
      all: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
      // Streams refetch on their own only hourly, so the delivery below comes by its live signal.
      edge: { EDGE_STREAM_POLL_SECONDS: '3600' },
    },
  });
});

afterEach(closeAllSubscriptions);

afterAll(async () => {
  await stack?.cleanup();
  await receiver?.close();
});

const SEND = `${MessageService.typeName}/${MessageService.method.sendMessage.name}`;
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/** The span's ancestors within the trace, nearest first. */
function ancestors(span: ReceivedSpan, trace: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain: ReceivedSpan[] = [];
  for (let p = byId.get(span.parentSpanId); p; p = byId.get(p.parentSpanId)) chain.push(p);
  return chain;
}

describe('tracing', () => {
  it('puts one SendMessage in one trace: the edge, messaging, its commit and the delivery to the recipient stream', async () => {
    const [alice, bob] = [await signUp(stack, 'trace_a'), await signUp(stack, 'trace_b')];
    const conversation = await openDirect(alice, bob);
    const inbox = Subscription.open(stack.edgeUrl, bob);
    await inbox.backlog();

    // The app starts the trace, as an instrumented client does: the edge continues it.
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    await alice.messages.sendMessage(
      { conversationId: conversation.id, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(bob, 'traced')] },
      { headers: { traceparent: `00-${traceId}-${clientSpanId}-01` } },
    );
    const delivery = await inbox.nextEnvelope();
    expect(delivery.payload.case === 'envelope' && textOf(delivery.payload.value.ciphertext)).toBe('traced');

    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const isEdgeSend = (s: ReceivedSpan) => s.service === 'parley-edge' && s.name === SEND && s.kind === SERVER;
    const isMessagingSend = (s: ReceivedSpan) => s.service === 'parley-messaging' && s.name === SEND && s.kind === SERVER;
    const isCommit = (s: ReceivedSpan) => s.service === 'parley-messaging' && Object.values(s.attributes).some((v) => String(v).includes('send_messages'));
    const isDelivery = (s: ReceivedSpan) => s.service === 'parley-edge' && s.name === 'deliver to stream';
    const trace = await eventually(
      async () => inTrace(),
      (spans) => [isEdgeSend, isMessagingSend, isCommit, isDelivery].every((is) => spans.some(is)),
    );

    const edgeSend = trace.find(isEdgeSend)!;
    const messagingSend = trace.find(isMessagingSend)!;
    const commit = trace.find(isCommit)!;
    const deliveries = trace.filter(isDelivery);
    expect(edgeSend.parentSpanId).toBe(clientSpanId);
    expect(ancestors(messagingSend, trace)).toContain(edgeSend);
    expect(ancestors(commit, trace)).toContain(messagingSend);
    expect(commit.attributes['db.system.name'] ?? commit.attributes['db.system']).toBe('postgresql');
    // The live signal went out after the commit, from the send's span, and the edge continued it.
    expect(deliveries).toHaveLength(1);
    expect(ancestors(deliveries[0]!, trace)).toContain(messagingSend);
    // One tree: every span of the trace descends from the app's.
    for (const span of trace) expect([span, ...ancestors(span, trace)].at(-1)!.parentSpanId).toBe(clientSpanId);
  });

  it("carries a request's trace on its outbox event to the consumers of other services", async () => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    // Registering commits auth.user_registered with the account; other services project it.
    await edgeClient(AuthService, stack.edgeUrl).register(
      { username: uniqueUsername(), password: PASSWORD, registrationId: 4242 },
      { headers: { traceparent: `00-${traceId}-${clientSpanId}-01` } },
    );
    const trace = await eventually(
      async () => receiver.spans.filter((s) => s.traceId === traceId),
      (spans) => spans.some((s) => s.kind === CONSUMER && s.service !== 'parley-auth'),
    );
    const register = trace.find((s) => s.service === 'parley-auth' && s.kind === SERVER && s.name.endsWith('/Register'))!;
    // One publish per event the registration recorded (the user, its first device), each from Register's trace.
    const publishes = trace.filter((s) => s.service === 'parley-auth' && s.kind === PRODUCER);
    expect(publishes.length).toBeGreaterThan(0);
    for (const publish of publishes) expect(ancestors(publish, trace)).toContain(register);
    for (const consumer of trace.filter((s) => s.kind === CONSUMER)) {
      expect(ancestors(consumer, trace).filter((s) => publishes.includes(s))).toHaveLength(1);
    }
  });
});
