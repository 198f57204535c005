import { eventually, startTestStack, startThrowawayNats, type TestStack, type ThrowawayNats } from '@parley/testing';
import { closeDevices, listen, openDirect, signedUp, texts, untilReceived } from './support';

// Fault test: it kills the edge (kill -9) and restarts its own nats-server, never the shared one.
describe('two SDK clients chat through faults', () => {
  let nats: ThrowawayNats;
  let stack: TestStack;

  beforeAll(async () => {
    nats = await startThrowawayNats();
    stack = await startTestStack({ services: ['auth', 'keys', 'messaging', 'edge'], natsUrl: nats.url, env: { auth: { BCRYPT_COST: '4' } } });
  });
  afterEach(closeDevices);
  afterAll(async () => {
    await nats?.restart().catch(() => undefined);
    await stack?.cleanup();
    await nats?.dispose();
  });

  it('every message arrives exactly once and in order through a kill -9 of the edge and a NATS restart', async () => {
    const alice = await signedUp(stack, 'alice');
    const bob = await signedUp(stack, 'bob');
    await listen(alice);
    await listen(bob);
    const states: string[] = [];
    bob.client.on('connection', (state) => states.push(state));
    const conversationId = await openDirect(alice, bob.client.account!.userId);
    const total = 60;
    const sent: string[] = [];
    const replies: string[] = [];

    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        const text = `a${i}`;
        await alice.client.sendText(conversationId, text);
        sent.push(text);
        // Bob answers every tenth, so both directions cross the faults.
        if (i % 10 === 9) {
          await bob.client.sendText(conversationId, `b${i}`);
          replies.push(`b${i}`);
        }
      }
    })();

    await eventually(async () => sent.length, (n) => n >= 15, 120_000);
    await stack.services.edge.kill9();
    await stack.services.edge.start();
    await eventually(async () => sent.length, (n) => n >= 30, 120_000);
    await nats.stop();
    await eventually(async () => sent.length, (n) => n >= 40, 120_000).catch(() => undefined);
    await nats.restart();
    await sending;

    await untilReceived(bob, total, 120_000);
    await untilReceived(alice, replies.length, 120_000);
    expect(texts(bob)).toEqual(sent);
    expect(bob.received.map((m) => Number(m.seq))).toEqual([...bob.received.map((m) => Number(m.seq))].sort((a, b) => a - b));
    expect(texts(alice)).toEqual(replies);
    expect(new Set(bob.received.map((m) => m.deliveryId)).size).toBe(total);
    // The edge's death broke Bob's stream and the SDK reconnected by itself.
    expect(states).toContain('reconnecting');
    // Everything was acked: a fresh look at the queue finds nothing of this conversation.
    await bob.client.inbox.flushAcks();
    await eventually(
      () => stack.query<{ n: string }>('messaging', 'select count(*) as n from queued_delivery q join message m on m.id = q.message_id where m.conversation_id = $1', [conversationId]),
      (rows) => rows[0]!.n === '0',
    );
  });
});
