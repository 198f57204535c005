import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { cryptoReady } from '@parley/crypto';
import { CiphertextType, DeliveryState, MemberRole, MessageService, type Delivery, type DeviceMismatch, type Envelope, type OutgoingEnvelope } from '@parley/proto';
import { connectErrorOf, edgeClient, eventually, startTestStack, type DeviceAddress, type TestStack } from '@parley/testing';
import type { ProtocolAddress } from '@signalapp/libsignal-client';
import { linkWithPassword, signUp, type EdgeDevice } from './support/accounts.js';
import { withSignalKeys } from './support/keyed-device.js';
import { createGroup, mismatchOf, opaqueEnvelope, openDirect, sendWhenDevicesKnown, textOf } from './support/messages.js';
import { decryptEnvelope, encryptForDevices } from './support/signal-envelopes.js';
import { Subscription, closeAllSubscriptions, deliveriesOf, queueOf } from './support/subscription.js';

let stack: TestStack;

beforeAll(async () => {
  await cryptoReady();
  // Streams refetch on their own only hourly, so a delivery that arrives on an open stream came by its live signal.
  stack = await startTestStack({ env: { edge: { EDGE_STREAM_POLL_SECONDS: '3600' } } });
});

afterEach(closeAllSubscriptions);

afterAll(() => stack?.cleanup());

/** The envelope a delivery carries; fails on a notice. */
function envelopeOf(delivery: Delivery): Envelope {
  if (delivery.payload.case !== 'envelope') throw new Error(`expected an envelope, got ${delivery.payload.case}`);
  return delivery.payload.value;
}

/** A DeviceMismatch as "user.device" lists, so a failure shows which devices. */
function mismatchSummary(mismatch: DeviceMismatch | undefined) {
  const list = (devices: DeviceMismatch['missingDevices']) => devices.map((d) => `${d.userId}.${d.deviceId}`);
  return mismatch && { missing: list(mismatch.missingDevices), extra: list(mismatch.extraDevices), stale: list(mismatch.staleDevices) };
}

const deviceName = (d: { userId: string; deviceId: number }) => `${d.userId}.${d.deviceId}`;

/**
 * Sends with a fresh client_message_id until a send is refused, and returns that refusal. For
 * waiting until messaging has learnt of a device change from auth's events; the sends accepted
 * before that are ordinary messages.
 */
async function firstRefusal(from: EdgeDevice, conversationId: string, envelopes: OutgoingEnvelope[]): Promise<{ clientMessageId: string; err: ConnectError }> {
  const attempt = await eventually(
    async () => {
      const clientMessageId = randomUUID();
      const err = await from.messages.sendMessage({ conversationId, clientMessageId, envelopes }).then(
        () => undefined,
        (e) => ConnectError.from(e),
      );
      return { clientMessageId, err };
    },
    (a) => a.err !== undefined,
  );
  return { clientMessageId: attempt.clientMessageId, err: attempt.err! };
}

describe('libsignal end to end through the edge', () => {
  it("one SendMessage carries a PQXDH ciphertext for each of Bob's devices and Alice's other one; each decrypts, acks, and is never sent it again", async () => {
    const alicePhone = await signUp(stack, 'alice');
    const aliceTablet = await linkWithPassword(stack, alicePhone, 'Tablet');
    const bobPhone = await signUp(stack, 'bob');
    const bobLaptop = await linkWithPassword(stack, bobPhone, 'Laptop');
    const keyed = (account: EdgeDevice) => withSignalKeys(stack, account);
    const [alice1, alice2, bob1, bob2] = await Promise.all([keyed(alicePhone), keyed(aliceTablet), keyed(bobPhone), keyed(bobLaptop)]);
    const conversation = await openDirect(alicePhone, bobPhone);

    const bobBundles = (await alice1.keys.getPreKeyBundles({ userId: bobPhone.userId, deviceId: 0 })).bundles;
    const ownBundles = (await alice1.keys.getPreKeyBundles({ userId: alicePhone.userId, deviceId: aliceTablet.deviceId })).bundles;
    expect(bobBundles.map((b) => b.deviceId).sort()).toEqual([bobPhone.deviceId, bobLaptop.deviceId].sort());
    expect(ownBundles.map((b) => b.deviceId)).toEqual([aliceTablet.deviceId]);

    const plaintext = (to: ProtocolAddress) => `for ${to.name()}.${to.deviceId()} only: the ferry leaves at nine`;
    const envelopes = await encryptForDevices(
      alice1.signal,
      [...bobBundles.map((bundle) => ({ userId: bobPhone.userId, bundle })), ...ownBundles.map((bundle) => ({ userId: alicePhone.userId, bundle }))],
      plaintext,
    );
    expect(envelopes.map((e) => e.type)).toEqual([CiphertextType.PREKEY_SIGNAL, CiphertextType.PREKEY_SIGNAL, CiphertextType.PREKEY_SIGNAL]);
    // Each envelope carries the registration id of the bundle its session came from.
    expect(envelopes.map((e) => e.registrationId)).toEqual([...bobBundles, ...ownBundles].map((b) => b.registrationId));
    const sent = await sendWhenDevicesKnown(alicePhone.messages, conversation.id, envelopes);
    expect(sent).toMatchObject({ seq: 1n, duplicate: false });

    for (const recipient of [bob1, bob2, alice2]) {
      const subscription = Subscription.open(stack.edgeUrl, recipient.account);
      const backlog = await subscription.backlog();
      const ofMessage = deliveriesOf(sent.messageId, backlog);
      expect(ofMessage).toHaveLength(1);
      const envelope = envelopeOf(ofMessage[0]!);
      expect(envelope).toMatchObject({
        conversationId: conversation.id,
        messageId: sent.messageId,
        seq: 1n,
        senderUserId: alicePhone.userId,
        senderDeviceId: alicePhone.deviceId,
        type: CiphertextType.PREKEY_SIGNAL,
        ephemeral: false,
      });
      expect(await decryptEnvelope(recipient.signal, envelope)).toBe(plaintext(recipient.signal.address));
      // Everything the device was sent is processed and acked; nothing of it comes back.
      expect(await subscription.ack(backlog)).toBe(backlog.length);
      await subscription.close();
      expect(await queueOf(stack.edgeUrl, recipient.account)).toEqual([]);
    }

    const status = await alicePhone.messages.getDeliveryStatus({ messageId: sent.messageId });
    expect(status.retracted).toBe(false);
    expect(status.devices.map((d) => [deviceName(d), d.state]).sort()).toEqual(
      [bobPhone, bobLaptop, aliceTablet].map((d) => [deviceName({ userId: d.userId, deviceId: d.deviceId }), DeliveryState.ACKED]).sort(),
    );

    // Bob's phone answers: a Signal message in the session Alice's PreKey message started, and new
    // sessions with the devices it has none with yet. Alice's phone is listening.
    const alicePhoneStream = Subscription.open(stack.edgeUrl, alicePhone);
    await alicePhoneStream.backlog();
    const aliceBundles = (await bob1.keys.getPreKeyBundles({ userId: alicePhone.userId, deviceId: aliceTablet.deviceId })).bundles;
    const laptopBundles = (await bob1.keys.getPreKeyBundles({ userId: bobPhone.userId, deviceId: bobLaptop.deviceId })).bundles;
    const reply = (to: ProtocolAddress) => `reply for ${to.name()}.${to.deviceId()}: nine is fine`;
    const replyEnvelopes = await encryptForDevices(
      bob1.signal,
      [
        { address: alice1.signal.address },
        ...aliceBundles.map((bundle) => ({ userId: alicePhone.userId, bundle })),
        ...laptopBundles.map((bundle) => ({ userId: bobPhone.userId, bundle })),
      ],
      reply,
    );
    expect(replyEnvelopes.map((e) => e.type)).toEqual([CiphertextType.SIGNAL, CiphertextType.PREKEY_SIGNAL, CiphertextType.PREKEY_SIGNAL]);
    const replied = await bobPhone.messages.sendMessage({ conversationId: conversation.id, clientMessageId: randomUUID(), envelopes: replyEnvelopes });
    expect(replied.seq).toBe(2n);

    const live = envelopeOf(await alicePhoneStream.nextEnvelope());
    expect(live).toMatchObject({ messageId: replied.messageId, seq: 2n, senderUserId: bobPhone.userId, type: CiphertextType.SIGNAL });
    expect(await decryptEnvelope(alice1.signal, live)).toBe(reply(alice1.signal.address));
    for (const recipient of [alice2, bob2]) {
      const [delivery] = deliveriesOf(replied.messageId, await queueOf(stack.edgeUrl, recipient.account));
      expect(await decryptEnvelope(recipient.signal, envelopeOf(delivery!))).toBe(reply(recipient.signal.address));
    }
  });
});

describe('a send whose envelopes do not match the devices', () => {
  /** Alice and Bob with a direct conversation, and a first message through, so messaging knows both. */
  async function pair(bobDevices: 'phone' | 'phone and laptop' = 'phone') {
    const alice = await signUp(stack, 'alice');
    const bob = await signUp(stack, 'bob');
    const laptop = bobDevices === 'phone and laptop' ? await linkWithPassword(stack, bob, 'Laptop') : undefined;
    const conversation = await openDirect(alice, bob);
    const devices = laptop ? [bob, laptop] : [bob];
    await sendWhenDevicesKnown(
      alice.messages,
      conversation.id,
      devices.map((d) => opaqueEnvelope(d, 'first')),
    );
    return { alice, bob, laptop, conversation };
  }

  /** The corrected send: accepted, a repeat of it is a duplicate of the same message. */
  async function retry(from: EdgeDevice, conversationId: string, clientMessageId: string, envelopes: OutgoingEnvelope[]) {
    const sent = await from.messages.sendMessage({ conversationId, clientMessageId, envelopes });
    expect(sent.duplicate).toBe(false);
    const again = await from.messages.sendMessage({ conversationId, clientMessageId, envelopes });
    expect(again).toMatchObject({ messageId: sent.messageId, seq: sent.seq, duplicate: true });
    return sent;
  }

  /** How many times `device`'s queue holds the message. */
  async function copiesOf(messageId: string, device: EdgeDevice): Promise<number> {
    return deliveriesOf(messageId, await queueOf(stack.edgeUrl, device)).length;
  }

  it('names a device Bob linked as missing; the retry with the same client_message_id reaches each of his devices once', async () => {
    const { alice, bob, conversation } = await pair();
    const laptop = await linkWithPassword(stack, bob, 'Laptop');

    // Until messaging hears of the laptop, a send without it still goes through.
    const { clientMessageId, err } = await firstRefusal(alice, conversation.id, [opaqueEnvelope(bob, 'hello')]);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(mismatchSummary(mismatchOf(err))).toEqual({ missing: [deviceName(laptop)], extra: [], stale: [] });
    // A client that reads only JSON finds them in the message.
    expect(err.rawMessage).toContain(`missing [${laptop.userId}/${laptop.deviceId}]; extra []; stale []`);

    const sent = await retry(alice, conversation.id, clientMessageId, [opaqueEnvelope(bob, 'hello'), opaqueEnvelope(laptop, 'hello')]);
    expect([await copiesOf(sent.messageId, bob), await copiesOf(sent.messageId, laptop)]).toEqual([1, 1]);
  });

  it("names a revoked device as extra; the retry without it reaches Bob's remaining device once", async () => {
    const { alice, bob, laptop, conversation } = await pair('phone and laptop');
    await bob.devices.revokeDevice({ deviceId: laptop!.deviceId });

    const envelopes = [opaqueEnvelope(bob, 'hello'), opaqueEnvelope(laptop!, 'hello')];
    const { clientMessageId, err } = await firstRefusal(alice, conversation.id, envelopes);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(mismatchSummary(mismatchOf(err))).toEqual({ missing: [], extra: [deviceName(laptop!)], stale: [] });

    const sent = await retry(alice, conversation.id, clientMessageId, [opaqueEnvelope(bob, 'hello')]);
    expect(await copiesOf(sent.messageId, bob)).toBe(1);
    const status = await alice.messages.getDeliveryStatus({ messageId: sent.messageId });
    expect(status.devices.map(deviceName)).toEqual([deviceName(bob)]);
  });

  it('names a device whose registration id is not the one the envelope carries as stale; the corrected retry reaches it once', async () => {
    const { alice, bob, conversation } = await pair();
    const clientMessageId = randomUUID();
    const staleSession: DeviceAddress = { ...bob, registrationId: bob.registrationId + 1 };

    const err = await connectErrorOf(alice.messages.sendMessage({ conversationId: conversation.id, clientMessageId, envelopes: [opaqueEnvelope(staleSession, 'hello')] }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(mismatchSummary(mismatchOf(err))).toEqual({ missing: [], extra: [], stale: [deviceName(bob)] });

    const sent = await retry(alice, conversation.id, clientMessageId, [opaqueEnvelope(bob, 'hello')]);
    expect(await copiesOf(sent.messageId, bob)).toBe(1);
  });

  it('lists every missing, extra and stale device of one send at once', async () => {
    const { alice, bob, laptop, conversation } = await pair('phone and laptop');
    const stranger = await signUp(stack, 'mallory');
    const aliceTablet = await linkWithPassword(stack, alice, 'Tablet');
    const envelopes = [opaqueEnvelope({ ...bob, registrationId: bob.registrationId + 1 }, 'x'), opaqueEnvelope(stranger, 'x')];
    const clientMessageId = randomUUID();

    // Until messaging hears of Alice's tablet, the refusal lacks it.
    const refusal = await eventually(
      () => connectErrorOf(alice.messages.sendMessage({ conversationId: conversation.id, clientMessageId, envelopes })),
      (err) => mismatchOf(err)?.missingDevices.length === 2,
    );
    expect(refusal.code).toBe(Code.FailedPrecondition);
    expect(mismatchSummary(mismatchOf(refusal))).toEqual({
      missing: [aliceTablet, laptop!].map(deviceName).sort(),
      extra: [deviceName(stranger)],
      stale: [deviceName(bob)],
    });

    const sent = await retry(alice, conversation.id, clientMessageId, [bob, laptop!, aliceTablet].map((d) => opaqueEnvelope(d, 'x')));
    expect([await copiesOf(sent.messageId, bob), await copiesOf(sent.messageId, laptop!)]).toEqual([1, 1]);
  });
});

describe('input the contract or the database refuses, through the edge', () => {
  it('AckDeliveries with an id of 2^63 or more: INVALID_ARGUMENT naming the field', async () => {
    const alice = await signUp(stack, 'alice');
    const err = await connectErrorOf(alice.messages.ackDeliveries({ deliveryIds: [1n, 2n ** 63n] }));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^invalid request: delivery_ids\[1\]: .*\[uint64\.gte_lt\]$/)]);
  });

  it.each(['99999999999999999999', '-99999999999999999999', '9223372036854775807', '-9223372036854775808'])(
    'ListConversations with a page token whose time is %s: INVALID_ARGUMENT',
    async (t) => {
      const alice = await signUp(stack, 'alice');
      const pageToken = Buffer.from(JSON.stringify({ t, id: randomUUID() })).toString('base64url');
      const err = await connectErrorOf(alice.conversations.listConversations({ pageToken }));
      expect(err.code).toBe(Code.InvalidArgument);
    },
  );
});

describe('two edge replicas', () => {
  it("a message sent through one edge reaches a device's stream on the other at once, both ways", async () => {
    const edgeB = await stack.startReplica('edge');
    const alice = await signUp(stack, 'alice');
    const bob = await signUp(stack, 'bob');
    const conversation = await openDirect(alice, bob);
    const bobOnB = edgeClient(MessageService, edgeB.url, { accessToken: bob.tokens.accessToken });

    // Alice sends through edge A; Bob listens on edge B.
    const bobStream = Subscription.open(edgeB.url, bob);
    await bobStream.backlog();
    const toBob = await sendWhenDevicesKnown(alice.messages, conversation.id, [opaqueEnvelope(bob, 'across the edges')]);
    const atBob = await bobStream.nextEnvelope();
    expect(envelopeOf(atBob)).toMatchObject({ messageId: toBob.messageId, senderUserId: alice.userId });
    expect(textOf(envelopeOf(atBob).ciphertext)).toBe('across the edges');
    expect(await bobStream.ack([atBob])).toBe(1);

    // Bob sends through edge B; Alice listens on edge A.
    const aliceStream = Subscription.open(stack.edgeUrl, alice);
    await aliceStream.backlog();
    const toAlice = await bobOnB.sendMessage({ conversationId: conversation.id, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(alice, 'and back')] });
    const atAlice = await aliceStream.nextEnvelope();
    expect(envelopeOf(atAlice)).toMatchObject({ messageId: toAlice.messageId, senderUserId: bob.userId });
    expect(textOf(envelopeOf(atAlice).ciphertext)).toBe('and back');
    expect(await aliceStream.ack([atAlice])).toBe(1);

    // Acked through one edge, gone through the other.
    await Promise.all([bobStream.close(), aliceStream.close()]);
    expect(deliveriesOf(toBob.messageId, await queueOf(stack.edgeUrl, bob))).toEqual([]);
    expect(deliveriesOf(toAlice.messageId, await queueOf(edgeB.url, alice))).toEqual([]);
  });
});

describe('groups through the edge', () => {
  it("a message reaches every device of every member; adding a member sends MembershipChanged to the members' streams", async () => {
    const alice = await signUp(stack, 'alice');
    const aliceTablet = await linkWithPassword(stack, alice, 'Tablet');
    const [bob, carol, dave] = await Promise.all([signUp(stack, 'bob'), signUp(stack, 'carol'), signUp(stack, 'dave')]);
    const group = await createGroup(alice, [bob, carol]);
    expect(group.members.map((m) => [m.userId, m.role]).sort()).toEqual(
      [
        [alice.userId, MemberRole.OWNER],
        [bob.userId, MemberRole.MEMBER],
        [carol.userId, MemberRole.MEMBER],
      ].sort(),
    );

    const receivers = [aliceTablet, bob, carol];
    const sent = await sendWhenDevicesKnown(
      alice.messages,
      group.id,
      receivers.map((d) => opaqueEnvelope(d, `to the group, for ${deviceName(d)}`)),
    );
    expect(sent.seq).toBe(1n);

    const streams = receivers.map((r) => Subscription.open(stack.edgeUrl, r));
    for (const [i, stream] of streams.entries()) {
      const backlog = await stream.backlog();
      const [delivery, ...again] = deliveriesOf(sent.messageId, backlog);
      expect(again).toEqual([]);
      expect(envelopeOf(delivery!)).toMatchObject({ conversationId: group.id, seq: 1n, senderUserId: alice.userId, senderDeviceId: alice.deviceId });
      expect(textOf(envelopeOf(delivery!).ciphertext)).toBe(`to the group, for ${deviceName(receivers[i]!)}`);
      expect(await stream.ack(backlog)).toBe(backlog.length);
    }

    const added = await alice.conversations.addMembers({ conversationId: group.id, userIds: [dave.userId] });
    expect(added.conversation!.members.map((m) => m.userId)).toContain(dave.userId);
    for (const stream of streams) {
      const notice = await stream.nextDelivery();
      expect(notice.payload).toEqual({
        case: 'notice',
        value: expect.objectContaining({ notice: { case: 'membershipChanged', value: expect.objectContaining({ conversationId: group.id }) } }),
      });
      expect(await stream.ack([notice])).toBe(1);
    }

    // Dave hears of his joining the same way, and gets nothing sent before it.
    const daveQueue = await queueOf(stack.edgeUrl, dave);
    expect(deliveriesOf(sent.messageId, daveQueue)).toEqual([]);
    expect(daveQueue.map((d) => d.payload.case === 'notice' && d.payload.value.notice)).toContainEqual({
      case: 'membershipChanged',
      value: expect.objectContaining({ conversationId: group.id }),
    });

    // The next message must include Dave's device too.
    const err = await connectErrorOf(alice.messages.sendMessage({ conversationId: group.id, clientMessageId: randomUUID(), envelopes: receivers.map((d) => opaqueEnvelope(d, 'x')) }));
    expect(mismatchSummary(mismatchOf(err))).toEqual({ missing: [deviceName(dave)], extra: [], stale: [] });
  });
});
