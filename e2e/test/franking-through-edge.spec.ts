import { randomBytes, randomUUID } from 'node:crypto';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { frankingCommitment, newFrankingKey, parseFrankingKeyring, verifyReportingTag, type FrankingKeyring } from '@parley/crypto';
import { decodeEvent, events } from '@parley/platform';
import type { Delivery, Envelope, MessageSent } from '@parley/proto';
import { connectErrorOf, eventually, startTestStack, type SignedInDevice, type TestStack } from '@parley/testing';
import { linkWithPassword, signUp, type EdgeDevice } from './support/accounts.js';
import { createGroup, opaqueEnvelope, openDirect, sendWhenDevicesKnown } from './support/messages.js';
import { Subscription, closeAllSubscriptions, deliveriesOf, queueOf } from './support/subscription.js';

let stack: TestStack;
let nc: NatsConnection;

beforeAll(async () => {
  // Streams refetch on their own only hourly, so a delivery that arrives on an open stream came by its live signal.
  stack = await startTestStack({ services: ['auth', 'keys', 'messaging', 'edge'], env: { edge: { EDGE_STREAM_POLL_SECONDS: '3600' } } });
  nc = await connect({ servers: stack.natsUrl });
});

afterEach(closeAllSubscriptions);

afterAll(async () => {
  await nc?.close();
  await stack?.cleanup();
});

const keyringOf = (env: { FRANKING_KEYS: string; FRANKING_ACTIVE_KEY_ID: string }): FrankingKeyring => parseFrankingKeyring(env.FRANKING_KEYS, env.FRANKING_ACTIVE_KEY_ID);

function envelopeOf(delivery: Delivery): Envelope {
  if (delivery.payload.case !== 'envelope') throw new Error(`expected an envelope, got ${delivery.payload.case}`);
  return delivery.payload.value;
}

/** A commitment to `text` under a fresh franking key, as a sending client makes it. */
async function commit(text: string): Promise<Uint8Array> {
  return frankingCommitment(newFrankingKey(), new TextEncoder().encode(text));
}

/**
 * The delivery's reporting tag, checked as moderation checks it: its context is this delivery's
 * (sender, the receiving device, conversation, message, server time, the commitment sent), and the
 * tag verifies under the keyring's key of its key id.
 */
function expectVerifiedTag(delivery: Delivery, receiver: SignedInDevice, sent: { from: SignedInDevice; conversationId: string; messageId: string; commitment: Uint8Array }, keyring: FrankingKeyring) {
  const envelope = envelopeOf(delivery);
  const tag = envelope.reportingTag;
  expect(tag).toBeDefined();
  expect(tag).toMatchObject({
    commitment: sent.commitment,
    senderUserId: sent.from.userId,
    senderDeviceId: sent.from.deviceId,
    recipientUserId: receiver.userId,
    recipientDeviceId: receiver.deviceId,
    conversationId: sent.conversationId,
    messageId: sent.messageId,
  });
  expect(envelope.messageId).toBe(sent.messageId);
  expect(timestampMs(tag!.serverTime!)).toBe(timestampMs(delivery.serverTime!));
  const key = keyring.keys.get(tag!.keyId);
  expect(key).toBeDefined();
  const context = { ...tag!, serverTimeMs: BigInt(timestampMs(tag!.serverTime!)) };
  expect(verifyReportingTag(key!, context, tag!.tag)).toBe(true);
  // Moved to another device, it no longer verifies.
  expect(verifyReportingTag(key!, { ...context, recipientDeviceId: context.recipientDeviceId + 1 }, tag!.tag)).toBe(false);
  return tag!;
}

/** messaging.message.sent events of this run, decoded, in the order published. */
function messageSentEvents() {
  const sub = nc.subscribe(stack.isolation.subjects.of(events.messageSent));
  const received: MessageSent[] = [];
  const pump = (async () => {
    for await (const msg of sub) received.push(decodeEvent(events.messageSent, msg.data).payload);
  })();
  return {
    /** Every event up to and including the one for `messageId`. */
    async until(messageId: string): Promise<MessageSent[]> {
      await eventually(async () => received.some((e) => e.messageId === messageId), Boolean);
      return received.splice(0, received.findIndex((e) => e.messageId === messageId) + 1);
    },
    async close() {
      sub.unsubscribe();
      await pump;
    },
  };
}

describe('message franking through the edge', () => {
  let alice: EdgeDevice;
  let aliceTablet: EdgeDevice;
  let bob: EdgeDevice;
  let bobLaptop: EdgeDevice;
  let conversationId: string;

  beforeAll(async () => {
    alice = await signUp(stack, 'alice');
    aliceTablet = await linkWithPassword(stack, alice, 'Tablet');
    bob = await signUp(stack, 'bob');
    bobLaptop = await linkWithPassword(stack, bob, 'Laptop');
    conversationId = (await openDirect(alice, bob)).id;
  });

  it('tags each envelope of a franked message for its device: on the live stream, on a fetch after reconnecting, and verifiable under the keyring', async () => {
    const keyring = keyringOf(stack.frankingKeyring);
    const live = Subscription.open(stack.edgeUrl, bob);
    await live.backlog();
    const commitment = await commit('meet me at the docks');
    const receivers = [bob, bobLaptop, aliceTablet];
    const sent = await sendWhenDevicesKnown(alice.messages, conversationId, receivers.map((d) => opaqueEnvelope(d, 'ciphertext')), randomUUID(), commitment);
    const message = { from: alice, conversationId, messageId: sent.messageId, commitment };

    const onStream = await live.nextEnvelope();
    const tag = expectVerifiedTag(onStream, bob, message, keyring);
    expect(tag.keyId).toBe(keyring.activeKeyId);
    expect(timestampMs(tag.serverTime!)).toBe(timestampMs(sent.sentAt!));

    // The devices that were offline read it from their queue when they connect; Bob's phone reconnects and reads it again.
    for (const receiver of receivers) {
      const [queued] = deliveriesOf(sent.messageId, await queueOf(stack.edgeUrl, receiver));
      expect(expectVerifiedTag(queued!, receiver, message, keyring).keyId).toBe(keyring.activeKeyId);
    }
    const [again] = deliveriesOf(sent.messageId, await queueOf(stack.edgeUrl, bob));
    expect(envelopeOf(again!).reportingTag).toEqual(envelopeOf(onStream).reportingTag);
  });

  it('tags each of many franked sends made at once (so the edge may relay, and messaging store, them in batches), each with its own context', async () => {
    const keyring = keyringOf(stack.frankingKeyring);
    const receivers = [bob, bobLaptop, aliceTablet];
    const sends = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const commitment = await commit(`message ${i}`);
        const sent = await sendWhenDevicesKnown(alice.messages, conversationId, receivers.map((d) => opaqueEnvelope(d, `c${i}`)), randomUUID(), commitment);
        return { from: alice, conversationId, messageId: sent.messageId, commitment };
      }),
    );
    for (const receiver of [bob, bobLaptop]) {
      const queue = await queueOf(stack.edgeUrl, receiver);
      for (const message of sends) expectVerifiedTag(deliveriesOf(message.messageId, queue)[0]!, receiver, message, keyring);
    }
  });

  it('carries no tag on an unfranked message', async () => {
    const sent = await sendWhenDevicesKnown(alice.messages, conversationId, [bob, bobLaptop, aliceTablet].map((d) => opaqueEnvelope(d, 'plain')));
    for (const receiver of [bob, aliceTablet]) {
      const [queued] = deliveriesOf(sent.messageId, await queueOf(stack.edgeUrl, receiver));
      expect(envelopeOf(queued!).reportingTag).toBeUndefined();
    }
  });

  it('refuses a commitment that is not 32 bytes, and a franked ephemeral send, with INVALID_ARGUMENT, storing nothing', async () => {
    const envelopes = [bob, bobLaptop, aliceTablet].map((d) => opaqueEnvelope(d, 'x'));
    const before = (await alice.conversations.getConversation({ conversationId })).conversation!.lastSeq;
    const short = await connectErrorOf(alice.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes, frankingCommitment: randomBytes(16) }));
    expect(short.code).toBe(Code.InvalidArgument);
    expect(short.rawMessage).toContain('franking_commitment');
    const ephemeral = await connectErrorOf(
      alice.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes, ephemeral: true, frankingCommitment: await commit('typing') }),
    );
    expect(ephemeral.code).toBe(Code.InvalidArgument);
    expect(ephemeral.rawMessage).toBe('an ephemeral send cannot be franked: leave franking_commitment empty');
    expect((await alice.conversations.getConversation({ conversationId })).conversation!.lastSeq).toBe(before);
  });

  it('publishes messaging.message.sent with the metadata of each stored message, and nothing for an ephemeral send', async () => {
    const published = messageSentEvents();
    try {
      await alice.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes: [bob, bobLaptop, aliceTablet].map((d) => opaqueEnvelope(d, 'typing')), ephemeral: true });
      const direct = await sendWhenDevicesKnown(alice.messages, conversationId, [bob, bobLaptop, aliceTablet].map((d) => opaqueEnvelope(d, 'hi')));
      // Events go out in commit order, so the ephemeral send, sent first, would have come first.
      expect(await published.until(direct.messageId)).toEqual([
        expect.objectContaining({
          messageId: direct.messageId,
          senderUserId: alice.userId,
          senderDeviceId: alice.deviceId,
          conversationId,
          group: false,
          directPeerUserId: bob.userId,
          recipientUsers: 1,
          sentAt: direct.sentAt,
        }),
      ]);

      const carol = await signUp(stack, 'carol');
      const group = await createGroup(alice, [bob, carol]);
      const inGroup = await sendWhenDevicesKnown(alice.messages, group.id, [bob, bobLaptop, carol, aliceTablet].map((d) => opaqueEnvelope(d, 'all')));
      expect(await published.until(inGroup.messageId)).toEqual([
        expect.objectContaining({ messageId: inGroup.messageId, conversationId: group.id, group: true, directPeerUserId: '', recipientUsers: 2, sentAt: inGroup.sentAt }),
      ]);
    } finally {
      await published.close();
    }
  });

  it('keeps old tags verifiable after a rotation: new messages use the new key, the old envelope still verifies under the old one', async () => {
    const k1 = keyringOf(stack.frankingKeyring);
    const oldCommitment = await commit('before the rotation');
    const old = await sendWhenDevicesKnown(alice.messages, conversationId, [bob, bobLaptop, aliceTablet].map((d) => opaqueEnvelope(d, 'old')), randomUUID(), oldCommitment);

    // The operator adds k2, makes it active, and keeps k1 listed.
    const k2Id = 'k2';
    const keys = `${stack.frankingKeyring.FRANKING_KEYS},${k2Id}:${randomBytes(32).toString('base64')}`;
    const rotated = parseFrankingKeyring(keys, k2Id);
    await stack.services.messaging.stop();
    await stack.services.messaging.start({ FRANKING_KEYS: keys, FRANKING_ACTIVE_KEY_ID: k2Id });

    const [oldDelivery] = deliveriesOf(old.messageId, await queueOf(stack.edgeUrl, bob));
    const oldTag = expectVerifiedTag(oldDelivery!, bob, { from: alice, conversationId, messageId: old.messageId, commitment: oldCommitment }, rotated);
    expect(oldTag.keyId).toBe(k1.activeKeyId);

    const newCommitment = await commit('after the rotation');
    const renewed = await sendWhenDevicesKnown(alice.messages, conversationId, [bob, bobLaptop, aliceTablet].map((d) => opaqueEnvelope(d, 'new')), randomUUID(), newCommitment);
    const [newDelivery] = deliveriesOf(renewed.messageId, await queueOf(stack.edgeUrl, bob));
    const newTag = expectVerifiedTag(newDelivery!, bob, { from: alice, conversationId, messageId: renewed.messageId, commitment: newCommitment }, rotated);
    expect(newTag.keyId).toBe(k2Id);
    // Not made with the old key.
    const newContext = { ...newTag, keyId: k1.activeKeyId, serverTimeMs: BigInt(timestampMs(newTag.serverTime!)) };
    expect(verifyReportingTag(k1.keys.get(k1.activeKeyId)!, newContext, newTag.tag)).toBe(false);
  });
});
