import type { SendMessageResponse } from '@parley/proto';
import { databaseUrl } from '@parley/stack';
import { eventually, startTestStack, startThrowawayNats, type TestStack, type ThrowawayNats } from '@parley/testing';
import pg from 'pg';
import { Inbox, Sender } from './support/delivery.js';
import { directChat, expectEachOnce, expectGapless, queuedEnvelopes, sendLoop, sorted, storedMessages } from './support/direct-chat.js';

// Real processes are killed here (messaging, an edge) and NATS is restarted; what must hold each
// time: every message reaches every device, each exactly once, and an acked delivery never comes back.

jest.setTimeout(300_000);

/**
 * Kills messaging, preferably just after it committed a message whose answer the sender has not
 * had yet, so the sender's retry must be answered as a duplicate. That window is a few ms, so this
 * watches the conversation's last seq for a while and then kills anyway.
 */
async function killWhenCommittedUnanswered(stack: TestStack, conversationId: string, answered: () => number) {
  const db = new pg.Client({ connectionString: databaseUrl(stack.isolation.pgUrl, stack.databaseName('messaging')) });
  await db.connect();
  try {
    for (let attempt = 0; attempt < 500; attempt++) {
      const { rows } = await db.query<{ last_seq: string }>('select last_seq from conversation where id = $1', [conversationId]);
      if (Number(rows[0]!.last_seq) > answered()) break;
    }
    await stack.services.messaging.kill9();
  } finally {
    await db.end();
  }
}

describe('on the shared NATS', () => {
  let stack: TestStack;
  const inboxes: Inbox[] = [];

  beforeAll(async () => {
    // 1,000 sends from one sender, past SENDS_PER_SENDER's default burst: that limit is not this test's subject.
    stack = await startTestStack({ services: ['auth', 'messaging', 'edge'], env: { auth: { BCRYPT_COST: '4' }, messaging: { SENDS_PER_SENDER: '1000000' } } });
  });

  afterEach(async () => {
    await Promise.all(inboxes.splice(0).map((i) => i.stop()));
  });

  afterAll(async () => {
    await stack?.cleanup();
  });

  it('kill -9 of messaging in the middle of 1,000 sends loses and duplicates nothing', async () => {
    const chat = await directChat(stack);
    const receivers = [chat.bob, chat.bob2, chat.alice2];
    inboxes.push(...receivers.map((d) => new Inbox(d, { edgeUrl: () => stack.edgeUrl })));
    await Promise.all(inboxes.map((i) => i.start()));
    const sender = new Sender(chat.alice, stack.edgeUrl);
    const sent: SendMessageResponse[] = [];

    let sentAtKill = 0;
    const crash = (async () => {
      await eventually(async () => sent.length, (n) => n >= 300, 120_000);
      await killWhenCommittedUnanswered(stack, chat.conversationId, () => sent.length);
      sentAtKill = sent.length;
      // Down until the sender has been refused at least once (or has nothing left to send: checked below).
      await eventually(async () => ({ retried: sender.retries.size, sent: sent.length }), (s) => s.retried > 0 || s.sent >= 1000, 120_000);
      await stack.services.messaging.start();
    })();
    await sendLoop(sender, chat, 1000, sent);
    await crash;

    // The kill landed mid-loop, and the sender saw it.
    expect(sentAtKill).toBeLessThan(1000);
    expect(sender.retries.size).toBeGreaterThan(0);
    expectGapless(sent, 1000);
    expect(await storedMessages(stack, chat.conversationId)).toBe(1000);
    for (const inbox of inboxes) await inbox.untilMessages(1000, 120_000);
    for (const inbox of inboxes) expectEachOnce(inbox, sent);
    expect(await queuedEnvelopes(stack, chat.conversationId, receivers)).toBe(0);
  });

  it("kill -9 of the edge holding a receiver's stream: on another edge it gets what it had not acked, and nothing it had", async () => {
    const chat = await directChat(stack);
    const edgeB = await stack.startReplica('edge');
    let bobEdge = edgeB.url;
    let ackEverything = false;
    // Before the crash Bob acks only even seqs (and notices), leaving the odd ones in flight on edge B.
    const bob = new Inbox(chat.bob, { edgeUrl: () => bobEdge, shouldAck: (r) => ackEverything || r.messageId === '' || r.seq % 2n === 0n });
    inboxes.push(bob);
    await bob.start();
    const sender = new Sender(chat.alice, stack.edgeUrl);
    const before: SendMessageResponse[] = [];
    await sendLoop(sender, chat, 40, before);
    await bob.untilMessages(40);
    expect(bob.streamUrls).toEqual([edgeB.url]);
    const streamOnB = bob.streamUrls.length - 1;
    const deliveryOf = new Map([...bob.messages()].map(([messageId, m]) => [messageId, [...m.deliveryIds][0]!]));
    const ackedOnB = new Set(before.filter((s) => s.seq % 2n === 0n).map((s) => deliveryOf.get(s.messageId)!));
    const unackedOnB = new Set(before.filter((s) => s.seq % 2n === 1n).map((s) => deliveryOf.get(s.messageId)!));
    expect([...ackedOnB].filter((id) => !bob.acked.has(id))).toEqual([]);

    bobEdge = stack.edgeUrl;
    ackEverything = true;
    await edgeB.process.kill9();
    const after: SendMessageResponse[] = [];
    await sendLoop(sender, chat, 10, after);
    await bob.untilMessages(50);

    // After the crash, through edge A: exactly the envelopes left unacked on B, and the new ones.
    expect(bob.streamUrls.slice(streamOnB + 1).every((url) => url === stack.edgeUrl)).toBe(true);
    const reconnected = bob.received.filter((r) => r.stream > streamOnB && r.messageId !== '').map((r) => r.deliveryId);
    const newDeliveries = after.map((s) => [...bob.messages().get(s.messageId)!.deliveryIds][0]!);
    expect(sorted(reconnected)).toEqual(sorted([...unackedOnB, ...newDeliveries]));
    expect([...bob.messages().values()].filter((m) => m.deliveryIds.size !== 1)).toEqual([]);
    expect(bob.redeliveredAfterAck).toEqual([]);
    expect(bob.ackFailures).toEqual([]);
    expectGapless([...before, ...after], 50);
    expect(await queuedEnvelopes(stack, chat.conversationId, [chat.bob])).toBe(0);
  });
});

describe('on a NATS that restarts', () => {
  // This stack has a nats-server of its own, which it stops and restarts; never the shared one.
  let nats: ThrowawayNats;
  let stack: TestStack;
  const inboxes: Inbox[] = [];

  beforeAll(async () => {
    nats = await startThrowawayNats();
    stack = await startTestStack({ services: ['auth', 'messaging', 'edge'], natsUrl: nats.url, env: { auth: { BCRYPT_COST: '4' } } });
  });

  afterAll(async () => {
    await Promise.all(inboxes.splice(0).map((i) => i.stop()));
    await nats?.restart().catch(() => undefined);
    await stack?.cleanup();
    await nats?.dispose();
  });

  it('messages sent while NATS is stopped and restarted reach every device exactly once', async () => {
    const chat = await directChat(stack);
    const receivers = [chat.bob, chat.bob2, chat.alice2];
    inboxes.push(...receivers.map((d) => new Inbox(d, { edgeUrl: () => stack.edgeUrl })));
    await Promise.all(inboxes.map((i) => i.start()));
    const sender = new Sender(chat.alice, stack.edgeUrl);
    const sent: SendMessageResponse[] = [];

    let sentWhileDown = 0;
    const outage = (async () => {
      await eventually(async () => sent.length, (n) => n >= 100, 120_000);
      await nats.stop();
      const atStop = sent.length;
      // Down until 100 more were sent, or 60 s if sending stalls without NATS (the test then fails below).
      await eventually(async () => sent.length, (n) => n >= atStop + 100, 60_000).catch(() => undefined);
      sentWhileDown = sent.length - atStop;
      await nats.restart();
    })();
    await sendLoop(sender, chat, 300, sent);
    await outage;

    expect(sentWhileDown).toBeGreaterThan(0);
    expectGapless(sent, 300);
    for (const inbox of inboxes) await inbox.untilMessages(300, 120_000);
    for (const inbox of inboxes) expectEachOnce(inbox, sent);
    expect(await queuedEnvelopes(stack, chat.conversationId, receivers)).toBe(0);
  });
});
