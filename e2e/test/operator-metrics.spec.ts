import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { MessageService } from '@parley/proto';
import { eventually, metricValue, startTestStack, type TestStack } from '@parley/testing';
import type { ServiceName } from '@parley/stack';
import { signUp } from './support/accounts.js';
import { opaqueEnvelope, openDirect } from './support/messages.js';
import { Subscription, closeAllSubscriptions } from './support/subscription.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterEach(closeAllSubscriptions);

afterAll(() => stack?.cleanup());

const SEND = `${MessageService.typeName}/${MessageService.method.sendMessage.name}`;

async function sample(service: ServiceName, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await stack.metrics(service), name, labels);
}

describe('what an operator watches', () => {
  it('counts each RPC by method and code, with its latency, at the edge and at messaging', async () => {
    const [alice, bob] = [await signUp(stack, 'metrics_a'), await signUp(stack, 'metrics_b')];
    const conversation = await openDirect(alice, bob);
    await alice.messages.sendMessage({ conversationId: conversation.id, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(bob, 'counted')] });
    const refused = await alice.messages.sendMessage({ conversationId: 'not-a-uuid', clientMessageId: randomUUID(), envelopes: [] }).catch((err) => ConnectError.from(err));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);

    for (const service of ['edge', 'messaging'] as const) {
      expect(await sample(service, 'parley_rpc_server_handled_total', { method: SEND, code: 'ok' })).toBe(1);
      expect(await sample(service, 'parley_rpc_server_handled_total', { method: SEND, code: 'InvalidArgument' })).toBe(1);
      expect(await sample(service, 'parley_rpc_server_handling_seconds_count', { method: SEND })).toBe(2);
    }
  });

  it('shows the streams open on an edge', async () => {
    const carol = await signUp(stack, 'metrics_c');
    const before = await sample('edge', 'parley_edge_streams_open');
    const inbox = Subscription.open(stack.edgeUrl, carol);
    await inbox.backlog();
    expect(await sample('edge', 'parley_edge_streams_open')).toBe(before + 1);
    await inbox.close();
    expect(await eventually(() => sample('edge', 'parley_edge_streams_open'), (n) => n === before)).toBe(before);
  });

  it("shows messaging's queued deliveries and the age of the oldest, and every consumer's lag", async () => {
    const [dave, erin] = [await signUp(stack, 'metrics_d'), await signUp(stack, 'metrics_e')];
    const conversation = await openDirect(dave, erin);
    await dave.messages.sendMessage({ conversationId: conversation.id, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(erin, 'waiting')] });

    const queued = async () => ({
      deliveries: await sample('messaging', 'parley_messaging_queued_deliveries'),
      oldestSeconds: await sample('messaging', 'parley_messaging_oldest_queued_delivery_age_seconds'),
      inDatabase: Number((await stack.query<{ n: string }>('messaging', 'select count(*) as n from queued_delivery'))[0]!.n),
    });
    const waiting = await eventually(queued, (q) => q.oldestSeconds > 0);
    expect(waiting.deliveries).toBe(waiting.inDatabase);
    expect(waiting.deliveries).toBeGreaterThanOrEqual(1);

    // Erin reads and acks what waited for her: nothing of hers is left.
    const inbox = Subscription.open(stack.edgeUrl, erin);
    const backlog = await inbox.backlog();
    expect(await inbox.ack(backlog)).toBe(backlog.length);
    const after = await queued();
    expect(after.deliveries).toBe(after.inDatabase);
    expect(after.deliveries).toBe(waiting.deliveries - backlog.length);

    // Send to deliver: what waited came fetched; what is sent now to her open stream comes live.
    expect(await sample('edge', 'parley_edge_send_to_deliver_seconds_count', { path: 'fetched' })).toBeGreaterThanOrEqual(1);
    const live = await sample('edge', 'parley_edge_send_to_deliver_seconds_count', { path: 'live' });
    await dave.messages.sendMessage({ conversationId: conversation.id, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(erin, 'live')] });
    await inbox.nextEnvelope();
    expect(await sample('edge', 'parley_edge_send_to_deliver_seconds_count', { path: 'live' })).toBe(live + 1);

    // Every service with a database reports its outbox lag, and has published all it committed.
    for (const service of ['auth', 'keys', 'messaging', 'media', 'moderation'] as const) {
      expect([service, (await stack.metrics(service)).includes('parley_outbox_oldest_event_age_seconds')]).toEqual([service, true]);
      expect(await eventually(() => sample(service, 'parley_outbox_pending_events'), (n) => n === 0)).toBe(0);
    }

    // Every consumer of messaging reports its lag, and each catches up.
    const text = await stack.metrics('messaging');
    const consumers = [...text.matchAll(/^parley_consumer_pending_events\{consumer="([^"]+)"/gm)].map((m) => m[1]!);
    expect(consumers.length).toBeGreaterThan(0);
    for (const consumer of consumers) {
      expect(await eventually(() => sample('messaging', 'parley_consumer_pending_events', { consumer }), (n) => n === 0)).toBe(0);
    }
  });
});
