import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { fromBinary } from '@bufbuild/protobuf';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ContactService, CiphertextType, DeviceMismatchSchema, LiveSignalSchema, type Delivery, type Envelope, type LiveSignal } from '@parley/proto';
import { connectErrorOf, eventually, serviceClient, startTestStack, type SignedInDevice, type TestStack } from '@parley/testing';
import { messageHarness, text, type MessageHarness } from './support/message-harness.js';

jest.setTimeout(120_000);

const ENVELOPE_MAX_BYTES = 1024;
const MESSAGE_MAX_BYTES = 64 * 1024;

let stack: TestStack;
let h: MessageHarness;
let nc: NatsConnection;

beforeAll(async () => {
  stack = await startTestStack({
    services: ['auth', 'messaging'],
    env: { auth: { BCRYPT_COST: '4' }, messaging: { ENVELOPE_MAX_BYTES: String(ENVELOPE_MAX_BYTES), MESSAGE_MAX_BYTES: String(MESSAGE_MAX_BYTES) } },
  });
  h = messageHarness(stack);
  nc = await connect({ servers: stack.natsUrl });
});

afterAll(async () => {
  await nc?.close();
  await stack?.cleanup();
});

const address = (d: SignedInDevice) => ({ userId: d.userId, deviceId: d.deviceId });
const byAddress = (a: { userId: string; deviceId: number }, b: { userId: string; deviceId: number }) =>
  a.userId === b.userId ? a.deviceId - b.deviceId : a.userId < b.userId ? -1 : 1;
const messageRows = (senderId: string) =>
  stack.query<{ id: string; seq: string; recipients: string[]; ttl_seconds: number }>(
    'messaging',
    'select id, seq, recipients, extract(epoch from expires_at - sent_at)::int as ttl_seconds from message where sender_user_id = $1 order by seq',
    [senderId],
  );

/** Alice on two devices and Bob on one, in a direct conversation. */
async function aliceAndBob() {
  const alice = await h.account();
  const alice2 = await h.link(alice);
  const bob = await h.account();
  const conversationId = await h.direct(alice, bob);
  return { alice, alice2, bob, conversationId };
}

describe('SendMessage', () => {
  it("queues an envelope for every other device, the sender's own included, and none for the sending device", async () => {
    const { alice, alice2, bob, conversationId } = await aliceAndBob();
    const sent = await h.messages.sendMessage(
      { conversationId, clientMessageId: randomUUID(), envelopes: [h.envelope(bob), h.envelope(alice2)] },
      alice.as,
    );
    expect([sent.seq, sent.duplicate]).toEqual([1n, false]);
    expect(sent.messageId).toMatch(/^[0-9a-f-]{36}$/);

    for (const device of [bob, alice2]) {
      const [delivery, ...rest] = await h.queued(device);
      expect(rest).toHaveLength(0);
      expect(delivery!.payload.case).toBe('envelope');
      const { conversationId: inConversation, messageId, seq, senderUserId, senderDeviceId, type, ephemeral } = delivery!.payload.value as Envelope;
      expect({ inConversation, messageId, seq, senderUserId, senderDeviceId, type, ephemeral }).toEqual({
        inConversation: conversationId,
        messageId: sent.messageId,
        seq: 1n,
        senderUserId: alice.userId,
        senderDeviceId: alice.deviceId,
        type: CiphertextType.SIGNAL,
        ephemeral: false,
      });
      expect(text(delivery!)).toBe(`hello for ${device.userId}.${device.deviceId}`);
    }
    expect(await h.queued(alice)).toHaveLength(0);

    const [row] = await messageRows(alice.userId);
    expect(row!.recipients.sort()).toEqual([`${bob.userId}.${bob.deviceId}`, `${alice2.userId}.${alice2.deviceId}`].sort());
    expect(row!.ttl_seconds).toBe(30 * 86_400);
  });

  it('refuses envelopes that miss, add or misaddress devices, saying which, and takes the corrected send', async () => {
    const { alice, alice2, bob, conversationId } = await aliceAndBob();
    const stranger = await h.account();
    const clientMessageId = randomUUID();
    const err = await connectErrorOf(
      h.messages.sendMessage(
        {
          conversationId,
          clientMessageId,
          // alice2 missing, the stranger and a device Bob doesn't have extra, Bob's registration id stale.
          envelopes: [h.envelope(stranger), h.envelope(bob, 'hello', { registrationId: bob.registrationId + 1 }), h.envelope({ ...bob, deviceId: 9 })],
        },
        alice.as,
      ),
    );
    expect([err.code, err.rawMessage]).toEqual([
      Code.FailedPrecondition,
      `envelopes don't match the conversation's devices: missing [${alice2.userId}/${alice2.deviceId}]; extra [${[stranger, { ...bob, deviceId: 9 }]
        .map((d) => `${d.userId}/${d.deviceId}`)
        .sort()
        .join(', ')}]; stale [${bob.userId}/${bob.deviceId}]; fetch keys and retry`,
    ]);
    const [mismatch, ...more] = err.findDetails(DeviceMismatchSchema);
    expect(more).toHaveLength(0);
    expect({
      missing: mismatch!.missingDevices.map(({ userId, deviceId }) => ({ userId, deviceId })),
      extra: mismatch!.extraDevices.map(({ userId, deviceId }) => ({ userId, deviceId })),
      stale: mismatch!.staleDevices.map(({ userId, deviceId }) => ({ userId, deviceId })),
    }).toEqual({
      missing: [address(alice2)],
      extra: [address(stranger), { userId: bob.userId, deviceId: 9 }].sort(byAddress),
      stale: [address(bob)],
    });

    const forgotOwnDevice = await connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId, envelopes: [h.envelope(bob)] }, alice.as));
    expect(forgotOwnDevice.code).toBe(Code.FailedPrecondition);
    const [onlyMissing] = forgotOwnDevice.findDetails(DeviceMismatchSchema);
    expect([onlyMissing!.missingDevices.map(({ userId, deviceId }) => ({ userId, deviceId })), onlyMissing!.extraDevices, onlyMissing!.staleDevices]).toEqual([
      [address(alice2)],
      [],
      [],
    ]);
    expect(await h.queued(bob)).toHaveLength(0);

    const sent = await h.messages.sendMessage({ conversationId, clientMessageId, envelopes: [h.envelope(bob), h.envelope(alice2)] }, alice.as);
    expect([sent.seq, sent.duplicate]).toEqual([1n, false]);
    expect(await h.queued(bob)).toHaveLength(1);
  });

  it('answers a retry from the first send, also when the retries race, and refuses the id for another conversation', async () => {
    const { alice, alice2, bob, conversationId } = await aliceAndBob();
    const envelopes = [h.envelope(bob), h.envelope(alice2)];
    const clientMessageId = randomUUID();
    const first = await h.messages.sendMessage({ conversationId, clientMessageId, envelopes }, alice.as);
    const retry = await h.messages.sendMessage({ conversationId, clientMessageId, envelopes }, alice.as);
    expect(retry).toEqual({ ...first, duplicate: true });
    // The retry comes from another of alice's devices, whose envelope set differs: still the first answer.
    const fromOtherDevice = await h.messages.sendMessage({ conversationId, clientMessageId, envelopes: [h.envelope(bob), h.envelope(alice)] }, alice2.as);
    expect(fromOtherDevice).toEqual({ ...first, duplicate: true });

    const raced = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => h.messages.sendMessage({ conversationId, clientMessageId: raced, envelopes }, alice.as)));
    expect(new Set(answers.map((a) => a.messageId)).size).toBe(1);
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.seq))).toEqual(new Set([2n]));

    expect((await messageRows(alice.userId)).map((r) => r.seq)).toEqual(['1', '2']);
    expect(await h.queued(bob)).toHaveLength(2);

    const carol = await h.account();
    const other = await h.direct(alice, carol);
    const reused = await connectErrorOf(h.messages.sendMessage({ conversationId: other, clientMessageId, envelopes: [h.envelope(carol), h.envelope(alice2)] }, alice.as));
    expect([reused.code, reused.rawMessage]).toEqual([
      Code.AlreadyExists,
      `client_message_id ${clientMessageId} was already used for another conversation; choose a new one`,
    ]);
  });

  it('numbers concurrent sends 1 to n without gaps', async () => {
    const alice = await h.account();
    const bob = await h.account();
    const conversationId = await h.direct(alice, bob);
    const sends = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.messages.sendMessage({ conversationId, clientMessageId: `parallel-${i}`, envelopes: [h.envelope(bob, `message ${i}`)] }, alice.as),
      ),
    );
    expect(sends.map((s) => Number(s.seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const [conversation] = await stack.query<{ last_seq: string }>('messaging', 'select last_seq from conversation where id = $1', [conversationId]);
    expect(conversation!.last_seq).toBe('20');
    // Bob's queue holds them in seq order, since each send's queue rows are inserted under the lock.
    const queued = await h.queued(bob);
    expect(queued.map((d) => (d.payload.case === 'envelope' ? Number(d.payload.value.seq) : 0))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('is NOT_FOUND for a conversation the caller is not in, and PERMISSION_DENIED while a block stands', async () => {
    const { alice, alice2, bob, conversationId } = await aliceAndBob();
    const outsider = await h.account();
    const notMember = await connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId: 'x', envelopes: [h.envelope(bob)] }, outsider.as));
    expect([notMember.code, notMember.rawMessage]).toEqual([Code.NotFound, `you are not a member of a conversation with id ${conversationId}`]);
    const unknown = randomUUID();
    expect((await connectErrorOf(h.messages.sendMessage({ conversationId: unknown, clientMessageId: 'x', envelopes: [] }, alice.as))).code).toBe(Code.NotFound);

    const contacts = serviceClient(ContactService, stack, 'auth');
    await contacts.blockUser({ userId: alice.userId }, bob.as);
    const attempt = () =>
      connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes: [h.envelope(bob), h.envelope(alice2)] }, alice.as)).catch(
        () => undefined,
      );
    const refused = await eventually(attempt, (err) => err?.code === Code.PermissionDenied);
    expect(refused!.rawMessage).toBe('this user does not accept messages from you');
    // The blocker can't write either.
    const back = await connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes: [h.envelope(alice), h.envelope(alice2)] }, bob.as));
    expect(back.code).toBe(Code.PermissionDenied);
  });

  it('refuses an envelope or a message over its size limit with RESOURCE_EXHAUSTED, before anything else', async () => {
    const { alice, bob, conversationId } = await aliceAndBob();
    const big = { ...h.envelope(bob), ciphertext: new Uint8Array(ENVELOPE_MAX_BYTES + 1) };
    const tooBig = await connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId: 'big', envelopes: [big] }, alice.as));
    expect([tooBig.code, tooBig.rawMessage]).toEqual([
      Code.ResourceExhausted,
      `envelopes[0].ciphertext is ${ENVELOPE_MAX_BYTES + 1} bytes; an envelope holds at most ${ENVELOPE_MAX_BYTES}`,
    ]);
    const count = MESSAGE_MAX_BYTES / ENVELOPE_MAX_BYTES + 1;
    const many = Array.from({ length: count }, () => ({ ...h.envelope({ ...bob, userId: randomUUID() }), ciphertext: new Uint8Array(ENVELOPE_MAX_BYTES) }));
    const tooMuch = await connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId: 'much', envelopes: many }, alice.as));
    expect([tooMuch.code, tooMuch.rawMessage]).toEqual([
      Code.ResourceExhausted,
      `the envelopes hold ${count * ENVELOPE_MAX_BYTES} bytes of ciphertext; a message holds at most ${MESSAGE_MAX_BYTES}`,
    ]);
    expect(await messageRows(alice.userId)).toHaveLength(0);
  });

  it('says which field of the request is malformed', async () => {
    const { alice, bob, conversationId } = await aliceAndBob();
    const refusal = async (req: Parameters<MessageHarness['messages']['sendMessage']>[0]) => {
      const err = await connectErrorOf(h.messages.sendMessage(req, alice.as));
      return [err.code, err.rawMessage];
    };
    const ok = h.envelope(bob);
    expect(await refusal({ conversationId: 'nope', clientMessageId: 'a', envelopes: [ok] })).toEqual([Code.InvalidArgument, 'invalid request: conversation_id: must be a valid UUID [string.uuid]']);
    expect(await refusal({ conversationId, clientMessageId: '', envelopes: [ok] })).toEqual([Code.InvalidArgument, 'invalid request: client_message_id: value is required [required]']);
    expect(await refusal({ conversationId, clientMessageId: 'has space', envelopes: [ok] })).toEqual([
      Code.InvalidArgument,
      'invalid request: client_message_id: does not match regex pattern `^[A-Za-z0-9_-]+$` [string.pattern]',
    ]);
    expect(await refusal({ conversationId, clientMessageId: 'a', envelopes: [ok, { ...ok, recipientUserId: 'bob' }] })).toEqual([
      Code.InvalidArgument,
      'invalid request: envelopes[1].recipient_user_id: must be a valid UUID [string.uuid]',
    ]);
    expect(await refusal({ conversationId, clientMessageId: 'a', envelopes: [{ ...ok, recipientDeviceId: 0 }] })).toEqual([
      Code.InvalidArgument,
      'invalid request: envelopes[0].recipient_device_id: must be greater than or equal to 1 and less than or equal to 127 [uint32.gte_lte]',
    ]);
    expect(await refusal({ conversationId, clientMessageId: 'a', envelopes: [{ ...ok, registrationId: 16381 }] })).toEqual([
      Code.InvalidArgument,
      'invalid request: envelopes[0].registration_id: must be greater than or equal to 1 and less than or equal to 16380 [uint32.gte_lte]',
    ]);
    expect(await refusal({ conversationId, clientMessageId: 'a', envelopes: [{ ...ok, type: CiphertextType.UNSPECIFIED }] })).toEqual([
      Code.InvalidArgument,
      'invalid request: envelopes[0].type: must not be in list [0] [enum.not_in]',
    ]);
    expect(await refusal({ conversationId, clientMessageId: 'a', envelopes: [{ ...ok, ciphertext: new Uint8Array() }] })).toEqual([
      Code.InvalidArgument,
      'invalid request: envelopes[0].ciphertext: value is required [required]',
    ]);
    expect(await refusal({ conversationId, clientMessageId: 'a', envelopes: [ok, ok] })).toEqual([
      Code.InvalidArgument,
      `envelopes[1] is a second envelope for device ${bob.deviceId} of user ${bob.userId}`,
    ]);
  });

  it('hands an ephemeral envelope to the live devices only, storing nothing', async () => {
    const { alice, alice2, bob, conversationId } = await aliceAndBob();
    const signals: LiveSignal[] = [];
    const sub = nc.subscribe(stack.isolation.subjects.liveDevice(bob.userId, bob.deviceId), {
      callback: (_err, msg) => void signals.push(fromBinary(LiveSignalSchema, msg.data)),
    });
    await nc.flush();
    const sent = await h.messages.sendMessage(
      { conversationId, clientMessageId: 'typing', envelopes: [h.envelope(bob, 'typing'), h.envelope(alice2, 'typing')], ephemeral: true },
      alice.as,
    );
    expect([sent.messageId, sent.seq, sent.duplicate]).toEqual(['', 0n, false]);
    await eventually(async () => signals.length, (count) => count >= 1);
    sub.unsubscribe();
    const [signal] = signals;
    expect(signal!.signal.case).toBe('ephemeral');
    const delivery = signal!.signal.value as Delivery;
    expect([delivery.id, delivery.payload.case]).toEqual([0n, 'envelope']);
    const envelope = delivery.payload.value as Envelope;
    expect([envelope.ephemeral, envelope.seq, envelope.messageId, envelope.conversationId]).toEqual([true, 0n, '', conversationId]);
    expect(text(delivery)).toBe(`typing for ${bob.userId}.${bob.deviceId}`);

    expect(await messageRows(alice.userId)).toHaveLength(0);
    expect(
      await stack.query('messaging', 'select 1 from queued_delivery where message_id is not null and recipient_user_id in ($1, $2)', [alice.userId, bob.userId]),
    ).toHaveLength(0);
    const [conversation] = await stack.query<{ last_seq: string }>('messaging', 'select last_seq from conversation where id = $1', [conversationId]);
    expect(conversation!.last_seq).toBe('0');
    // Checked like a stored send.
    const mismatch = await connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId: 'typing', envelopes: [h.envelope(bob)], ephemeral: true }, alice.as));
    expect(mismatch.code).toBe(Code.FailedPrecondition);
    // A retry of a real message's id is still a real send afterwards: the ephemeral one left no record.
    const real = await h.messages.sendMessage({ conversationId, clientMessageId: 'typing', envelopes: [h.envelope(bob), h.envelope(alice2)] }, alice.as);
    expect([real.seq, real.duplicate]).toEqual([1n, false]);
  });

  it('in a group, needs an envelope for a member who blocked the sender but does not queue it', async () => {
    const alice = await h.account();
    const bob = await h.account();
    const carol = await h.account();
    const conversationId = await h.group(alice, bob, carol);
    const contacts = serviceClient(ContactService, stack, 'auth');
    await contacts.blockUser({ userId: alice.userId }, carol.as);
    await eventually(
      () => stack.query('messaging', 'select 1 from block_projection where blocker_id = $1 and blocked_id = $2 and active', [carol.userId, alice.userId]),
      (rows) => rows.length === 1,
    );
    const withoutCarol = await connectErrorOf(h.messages.sendMessage({ conversationId, clientMessageId: 'g1', envelopes: [h.envelope(bob)] }, alice.as));
    expect(withoutCarol.code).toBe(Code.FailedPrecondition);
    expect(withoutCarol.findDetails(DeviceMismatchSchema)[0]!.missingDevices.map(({ userId, deviceId }) => ({ userId, deviceId }))).toEqual([address(carol)]);

    const sent = await h.messages.sendMessage({ conversationId, clientMessageId: 'g1', envelopes: [h.envelope(bob), h.envelope(carol)] }, alice.as);
    expect(sent.seq).toBe(1n);
    expect(await h.queued(bob)).toHaveLength(1);
    expect(await h.queued(carol)).toHaveLength(0);
    expect((await messageRows(alice.userId))[0]!.recipients).toEqual([`${bob.userId}.${bob.deviceId}`]);
  });

  it('takes zero envelopes where there is no device to address, and still numbers the message', async () => {
    const alone = await h.account();
    const conversationId = await h.group(alone);
    const sent = await h.messages.sendMessage({ conversationId, clientMessageId: 'note-to-self', envelopes: [] }, alone.as);
    expect([sent.seq, sent.duplicate]).toEqual([1n, false]);
    expect((await messageRows(alone.userId))[0]!.recipients).toEqual([]);
  });
});
