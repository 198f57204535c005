import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { ContactService, DeliveryState, type Delivery } from '@parley/proto';
import { connectErrorOf, eventually, serviceClient, startTestStack, type SignedInDevice, type TestStack } from '@parley/testing';
import { messageHarness, type MessageHarness } from './support/message-harness.js';

jest.setTimeout(120_000);

let stack: TestStack;
let h: MessageHarness;

beforeAll(async () => {
  // Sweeps every second; the sweep test backdates rows rather than waiting out a real TTL.
  stack = await startTestStack({ services: ['auth', 'messaging'], env: { auth: { BCRYPT_COST: '4' }, messaging: { EXPIRY_SWEEP_SECONDS: '1' } } });
  h = messageHarness(stack);
});

afterAll(async () => {
  await stack?.cleanup();
});

/** Alice (two devices) sent Bob one message in their direct conversation. */
async function sentToBob() {
  const alice = await h.account();
  const alice2 = await h.link(alice);
  const bob = await h.account();
  const conversationId = await h.direct(alice, bob);
  const { messageId, seq } = await h.messages.sendMessage(
    { conversationId, clientMessageId: randomUUID(), envelopes: [h.envelope(bob), h.envelope(alice2)] },
    alice.as,
  );
  return { alice, alice2, bob, conversationId, messageId, seq };
}

const states = async (messageId: string, sender: SignedInDevice) => {
  const status = await h.messages.getDeliveryStatus({ messageId }, sender.as);
  return { retracted: status.retracted, devices: status.devices.map(({ userId, deviceId, state }) => ({ userId, deviceId, state })).sort(byAddress) };
};
const byAddress = (a: { userId: string; deviceId: number }, b: { userId: string; deviceId: number }) =>
  a.userId === b.userId ? a.deviceId - b.deviceId : a.userId < b.userId ? -1 : 1;
const at = (d: SignedInDevice, state: DeliveryState) => ({ userId: d.userId, deviceId: d.deviceId, state });
const retractions = (deliveries: Delivery[]) =>
  deliveries.flatMap((d) => (d.payload.case === 'notice' && d.payload.value.notice.case === 'messageRetracted' ? [d.payload.value.notice.value] : []));

describe('GetDeliveryStatus and RetractMessage', () => {
  it('shows envelopes queued, then acked; a retraction drops the rest and tells every device', async () => {
    const { alice, alice2, bob, conversationId, messageId, seq } = await sentToBob();
    expect(await states(messageId, alice)).toEqual({ retracted: false, devices: [at(bob, DeliveryState.QUEUED), at(alice2, DeliveryState.QUEUED)].sort(byAddress) });

    expect(await h.ackAll(bob)).toBe(1);
    // Any of the sender's devices may ask.
    expect(await states(messageId, alice2)).toEqual({ retracted: false, devices: [at(bob, DeliveryState.ACKED), at(alice2, DeliveryState.QUEUED)].sort(byAddress) });

    expect(await h.messages.retractMessage({ conversationId, messageId }, alice.as)).toEqual(expect.objectContaining({ droppedEnvelopes: 1 }));
    expect(await states(messageId, alice)).toEqual({ retracted: true, devices: [at(bob, DeliveryState.ACKED), at(alice2, DeliveryState.DROPPED)].sort(byAddress) });

    const notice = { conversationId, messageId, seq, senderUserId: alice.userId };
    const bobQueue = await h.queued(bob);
    expect(retractions(bobQueue).map(({ conversationId, messageId, seq, senderUserId }) => ({ conversationId, messageId, seq, senderUserId }))).toEqual([notice]);
    // alice2's envelope is gone; only the notice is left. The retracting device gets none.
    const alice2Queue = await h.queued(alice2);
    expect(alice2Queue.map((d) => d.payload.case)).toEqual(['notice']);
    expect(retractions(alice2Queue).map((n) => n.messageId)).toEqual([messageId]);
    expect(await h.queued(alice)).toHaveLength(0);

    // Again: nothing more is dropped or queued.
    expect((await h.messages.retractMessage({ conversationId, messageId }, alice2.as)).droppedEnvelopes).toBe(0);
    expect(await h.queued(bob)).toHaveLength(1);
    expect(await h.queued(alice2)).toHaveLength(1);
  });

  it('lets only the sender retract or see the status, and only in a conversation they are in', async () => {
    const { alice, bob, conversationId, messageId } = await sentToBob();
    const outsider = await h.account();

    const notSender = await connectErrorOf(h.messages.retractMessage({ conversationId, messageId }, bob.as));
    expect([notSender.code, notSender.rawMessage]).toEqual([Code.PermissionDenied, 'only the sender can delete a message for everyone']);
    const notMember = await connectErrorOf(h.messages.retractMessage({ conversationId, messageId }, outsider.as));
    expect(notMember.code).toBe(Code.NotFound);
    const unknown = randomUUID();
    const missing = await connectErrorOf(h.messages.retractMessage({ conversationId, messageId: unknown }, alice.as));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, `this conversation has no message with id ${unknown}`]);
    const otherConversation = await h.direct(alice, outsider);
    expect((await connectErrorOf(h.messages.retractMessage({ conversationId: otherConversation, messageId }, alice.as))).code).toBe(Code.NotFound);
    const malformed = await connectErrorOf(h.messages.retractMessage({ conversationId, messageId: 'm1' }, alice.as));
    expect([malformed.code, malformed.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: message_id: must be a valid UUID [string.uuid]']);

    // Someone else's message looks like no message at all.
    const bobAsks = await connectErrorOf(h.messages.getDeliveryStatus({ messageId }, bob.as));
    const noneAsked = await connectErrorOf(h.messages.getDeliveryStatus({ messageId: unknown }, alice.as));
    expect([bobAsks.code, bobAsks.rawMessage]).toEqual([Code.NotFound, `you sent no message with id ${messageId}`]);
    expect([noneAsked.code, noneAsked.rawMessage]).toEqual([Code.NotFound, `you sent no message with id ${unknown}`]);

    expect(await states(messageId, alice)).toEqual(expect.objectContaining({ retracted: false }));
    expect(await h.queued(bob)).toHaveLength(1);
  });

  it('refuses a retraction once the window has passed', async () => {
    const { alice, bob, conversationId, messageId } = await sentToBob();
    await stack.query('messaging', `update message set sent_at = sent_at - interval '1 day 1 second' where id = $1`, [messageId]);
    const late = await connectErrorOf(h.messages.retractMessage({ conversationId, messageId }, alice.as));
    expect([late.code, late.rawMessage]).toEqual([Code.FailedPrecondition, 'a message can be deleted for everyone only within 86400 seconds of sending it']);
    expect(await h.queued(bob)).toHaveLength(1);
  });

  it("still lets a sender retract while blocked, and doesn't notify a device revoked since", async () => {
    const { alice, alice2, bob, conversationId, messageId } = await sentToBob();
    const contacts = serviceClient(ContactService, stack, 'auth');
    await contacts.blockUser({ userId: alice.userId }, bob.as);
    await h.devices.revokeDevice({ deviceId: alice2.deviceId }, alice.as);
    await eventually(
      () => stack.query('messaging', 'select 1 from device_projection where user_id = $1 and device_id = $2 and not active', [alice.userId, alice2.deviceId]),
      (rows) => rows.length === 1,
    );
    // The revocation already dropped alice2's envelope; the retraction drops Bob's.
    expect((await h.messages.retractMessage({ conversationId, messageId }, alice.as)).droppedEnvelopes).toBe(1);
    expect(retractions(await h.queued(bob)).map((n) => n.messageId)).toEqual([messageId]);
    expect(retractions(await h.queued(alice))).toEqual([]);
    expect(
      await stack.query('messaging', 'select 1 from queued_delivery where recipient_user_id = $1 and recipient_device_id = $2', [alice.userId, alice2.deviceId]),
    ).toHaveLength(0);
  });
});

describe('expiry sweeper', () => {
  it('deletes expired queue rows and messages, and keeps the rest', async () => {
    const expired = await sentToBob();
    const kept = await sentToBob();
    await stack.query('messaging', `update message set expires_at = now() - interval '1 second' where id = $1`, [expired.messageId]);
    await stack.query('messaging', `update queued_delivery set expires_at = now() - interval '1 second' where message_id = $1`, [expired.messageId]);
    // A notice (no message) expires on its own.
    await h.messages.retractMessage({ conversationId: kept.conversationId, messageId: kept.messageId }, kept.alice.as);
    await stack.query('messaging', `update queued_delivery set expires_at = now() - interval '1 second' where message_id is null and recipient_user_id = $1`, [
      kept.bob.userId,
    ]);

    await eventually(
      () => stack.query('messaging', 'select 1 from message where id = $1', [expired.messageId]),
      (rows) => rows.length === 0,
    );
    await eventually(
      () => stack.query('messaging', 'select 1 from queued_delivery where message_id = $1 or (message_id is null and recipient_user_id = $2)', [expired.messageId, kept.bob.userId]),
      (rows) => rows.length === 0,
    );
    expect(await stack.query('messaging', 'select 1 from message where id = $1', [kept.messageId])).toHaveLength(1);
    // kept.alice2's retraction notice is unexpired.
    expect(await h.queued(kept.alice2)).toHaveLength(1);
  });

  it('deletes a message once every envelope was acked and its retract window has passed, and no sooner', async () => {
    const acked = await sentToBob();
    const halfAcked = await sentToBob();
    const recent = await sentToBob();
    for (const m of [acked, halfAcked, recent]) await h.ackAll(m.bob);
    for (const m of [acked, recent]) await h.ackAll(m.alice2);
    // Sent longer ago than RETRACT_WINDOW_SECONDS (a day by default): only the retraction kept them.
    await stack.query('messaging', `update message set sent_at = now() - interval '2 days' where id = any($1::uuid[])`, [[acked.messageId, halfAcked.messageId]]);

    await eventually(
      () => stack.query('messaging', 'select 1 from message where id = $1', [acked.messageId]),
      (rows) => rows.length === 0,
    );
    // halfAcked still waits for alice2, and recent may still be retracted: the sweep that took
    // `acked` passed over both.
    const swept = await stack.query<{ id: string }>('messaging', 'select id from message where id = any($1::uuid[])', [[halfAcked.messageId, recent.messageId]]);
    expect(swept.map((r) => r.id).sort()).toEqual([halfAcked.messageId, recent.messageId].sort());
    const status = await connectErrorOf(h.messages.getDeliveryStatus({ messageId: acked.messageId }, acked.alice.as));
    expect([status.code, status.rawMessage]).toEqual([Code.NotFound, `you sent no message with id ${acked.messageId}`]);

    await h.ackAll(halfAcked.alice2);
    await eventually(
      () => stack.query('messaging', 'select 1 from message where id = $1', [halfAcked.messageId]),
      (rows) => rows.length === 0,
    );
    expect(await stack.query('messaging', 'select 1 from message where id = $1', [recent.messageId])).toHaveLength(1);
  });
});
