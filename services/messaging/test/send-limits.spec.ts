import { randomUUID } from 'node:crypto';
import { Code, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { MessageService } from '@parley/proto';
import { connectErrorOf, startTestStack, type SignedInDevice, type TestStack } from '@parley/testing';
import { messageHarness, type MessageHarness } from './support/message-harness.js';

jest.setTimeout(120_000);

/** Three sends per sender, then one a minute: a test's sends all fall in the burst's minute. */
const SENDS = 3;
const QUEUE_MAX_DELIVERIES = 4;
const QUEUE_MAX_BYTES = 4096;

let stack: TestStack;
let h: MessageHarness;

beforeAll(async () => {
  stack = await startTestStack({
    services: ['auth', 'messaging'],
    env: {
      auth: { BCRYPT_COST: '4' },
      messaging: {
        SENDS_PER_SENDER: String(SENDS),
        SENDS_PER_SENDER_PER_MINUTE: '1',
        QUEUE_MAX_DELIVERIES: String(QUEUE_MAX_DELIVERIES),
        QUEUE_MAX_BYTES: String(QUEUE_MAX_BYTES),
      },
    },
  });
  h = messageHarness(stack);
});

afterAll(() => stack?.cleanup());

const send = (from: SignedInDevice, to: SignedInDevice, conversationId: string, opts: { ephemeral?: boolean; bytes?: number } = {}) =>
  h.messages.sendMessage(
    {
      conversationId,
      clientMessageId: randomUUID(),
      ephemeral: opts.ephemeral ?? false,
      envelopes: [opts.bytes ? { ...h.envelope(to), ciphertext: new Uint8Array(opts.bytes) } : h.envelope(to)],
    },
    from.as,
  );
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'sent',
    (err: unknown) => {
      const e = connectErrorOf(Promise.reject(err as Error));
      return e.then((c) => `${Code[c.code]}: ${c.rawMessage.replace(/retry in \d+ s/, 'retry in N s')}`);
    },
  );
const queueCounters = async (d: SignedInDevice) =>
  (
    await stack.query<{ queued_count: number; queued_bytes: string; actual_count: string; actual_bytes: string | null }>(
      'messaging',
      `select d.queued_count, d.queued_bytes::text,
              (select count(*) from queued_delivery q where q.recipient_user_id = d.user_id and q.recipient_device_id = d.device_id)::text as actual_count,
              (select sum(octet_length(body)) from queued_delivery q where q.recipient_user_id = d.user_id and q.recipient_device_id = d.device_id)::text as actual_bytes
         from device_projection d where d.user_id = $1 and d.device_id = $2`,
      [d.userId, d.deviceId],
    )
  )[0]!;

describe('sends per sender', () => {
  it('refuse the send past the burst with RESOURCE_EXHAUSTED and a retry-after, ephemeral sends counted alike, other senders unaffected', async () => {
    const [alice, bob] = [await h.account(), await h.account()];
    const conversationId = await h.direct(alice, bob);
    const outcomes = [
      await outcome(send(alice, bob, conversationId)),
      await outcome(send(alice, bob, conversationId, { ephemeral: true })),
      await outcome(send(alice, bob, conversationId)),
      await outcome(send(alice, bob, conversationId)),
      await outcome(send(alice, bob, conversationId, { ephemeral: true })),
      await outcome(send(bob, alice, conversationId)),
    ];
    const limited = 'ResourceExhausted: too many messages sent; retry in N s';
    expect(outcomes).toEqual(['sent', 'sent', 'sent', limited, limited, 'sent']);
    expect(await stack.query('messaging', 'select 1 from message where sender_user_id = $1', [alice.userId])).toHaveLength(2);
  });

  it('hold for concurrent sends of one sender that go in one batch: exactly the burst is sent', async () => {
    const [alice, bob] = [await h.account(), await h.account()];
    const conversationId = await h.direct(alice, bob);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => outcome(send(alice, bob, conversationId))));
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(SENDS);
    expect(await stack.query('messaging', 'select 1 from message where sender_user_id = $1', [alice.userId])).toHaveLength(SENDS);
  });

  it('are one bucket for every replica of messaging', async () => {
    const [alice, bob] = [await h.account(), await h.account()];
    const conversationId = await h.direct(alice, bob);
    const replica = await stack.startReplica('messaging');
    const viaReplica = createClient(MessageService, createGrpcTransport({ baseUrl: replica.url }));
    const sendVia = (client: typeof viaReplica) =>
      outcome(client.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes: [h.envelope(bob)] }, alice.as));
    const outcomes = [await sendVia(h.messages), await sendVia(viaReplica), await sendVia(h.messages), await sendVia(viaReplica)];
    expect(outcomes.map((o) => o.split(':')[0])).toEqual(['sent', 'sent', 'sent', 'ResourceExhausted']);
    await replica.process.stop();
  });
});

describe("a device queue's quota", () => {
  it('refuses the send that would pass its count, naming the recipient device, until the device has read its queue', async () => {
    const [alice, carol, bob] = [await h.account(), await h.account(), await h.account()];
    const [fromAlice, fromCarol] = [await h.direct(alice, bob), await h.direct(carol, bob)];
    const outcomes = [];
    for (let i = 0; i < SENDS; i++) outcomes.push(await outcome(send(alice, bob, fromAlice)));
    outcomes.push(await outcome(send(carol, bob, fromCarol)));
    expect(outcomes).toEqual(Array(QUEUE_MAX_DELIVERIES).fill('sent'));
    const full = await outcome(send(carol, bob, fromCarol));
    expect(full).toBe(`ResourceExhausted: the queue of device ${bob.deviceId} of user ${bob.userId} is full of undelivered messages; retry in N s`);
    // Nothing of the refused send was kept, and the counters are the queue's. The refused send
    // spent Carol's second token; her third is for after Bob has read his queue.
    expect(await stack.query('messaging', 'select 1 from message where sender_user_id = $1', [carol.userId])).toHaveLength(1);
    expect(await queueCounters(bob)).toEqual({
      queued_count: QUEUE_MAX_DELIVERIES,
      queued_bytes: expect.any(String),
      actual_count: String(QUEUE_MAX_DELIVERIES),
      actual_bytes: expect.any(String),
    });
    const before = await queueCounters(bob);
    expect(before.queued_bytes).toBe(before.actual_bytes);

    expect(await h.ackAll(bob)).toBe(QUEUE_MAX_DELIVERIES);
    expect(await queueCounters(bob)).toEqual({ queued_count: 0, queued_bytes: '0', actual_count: '0', actual_bytes: null });
    expect(await outcome(send(carol, bob, fromCarol))).toBe('sent');
  });

  it('refuses the send that would pass its bytes', async () => {
    const [alice, bob] = [await h.account(), await h.account()];
    const conversationId = await h.direct(alice, bob);
    expect(await outcome(send(alice, bob, conversationId, { bytes: QUEUE_MAX_BYTES / 2 }))).toBe('sent');
    expect(await outcome(send(alice, bob, conversationId, { bytes: QUEUE_MAX_BYTES / 2 }))).toMatch(
      new RegExp(`^ResourceExhausted: the queue of device ${bob.deviceId} of user ${bob.userId} is full`),
    );
    // A small one still fits.
    expect(await outcome(send(alice, bob, conversationId, { bytes: 16 }))).toBe('sent');
  });

  it('does not limit ephemeral sends, which are never queued', async () => {
    const [alice, carol, bob] = [await h.account(), await h.account(), await h.account()];
    const [fromAlice, fromCarol] = [await h.direct(alice, bob), await h.direct(carol, bob)];
    for (let i = 0; i < SENDS; i++) await send(alice, bob, fromAlice);
    await send(carol, bob, fromCarol);
    expect(await outcome(send(carol, bob, fromCarol))).toMatch(/^ResourceExhausted: the queue of device/);
    expect(await outcome(send(carol, bob, fromCarol, { ephemeral: true }))).toBe('sent');
  });
});
