import { randomUUID } from 'node:crypto';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { encodeEnvelope, events, packEvent, type EventType } from '@parley/platform';
import { AuthService, ContactService, ConversationKind, ConversationService, DeviceService, MemberRole, MessagingPolicy } from '@parley/proto';
import { Accounts, PASSWORD, connectErrorOf, eventually, serviceClient, startTestStack, untilUsersKnown, type SignedInDevice, type TestStack } from '@parley/testing';

jest.setTimeout(90_000);

let stack: TestStack;
let nc: NatsConnection;
let auth: Client<typeof AuthService>;
let contacts: Client<typeof ContactService>;
let conversations: Client<typeof ConversationService>;
let devices: Client<typeof DeviceService>;
let accounts: Accounts;

/** A registered account that messaging already knows about. */
async function account(): Promise<SignedInDevice> {
  const device = await accounts.register({ registrationId: 1234 });
  await untilUsersKnown(stack, 'messaging', [device.userId]);
  return device;
}

/** 'ok', or the code OpenDirectConversation from `a` to `b` fails with. */
async function openOutcome(a: SignedInDevice, b: SignedInDevice): Promise<'ok' | Code> {
  try {
    await conversations.openDirectConversation({ userId: b.userId }, a.as);
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

async function becomeContacts(a: SignedInDevice, b: SignedInDevice) {
  await contacts.sendContactRequest({ userId: b.userId }, a.as);
  await contacts.acceptContactRequest({ userId: a.userId }, b.as);
  await eventually(
    () => stack.query('messaging', 'select 1 from contact_projection where user_id = $1 and contact_user_id = $2 and active', [b.userId, a.userId]),
    (rows) => rows.length === 1,
  );
}

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth', 'messaging'], env: { auth: { BCRYPT_COST: '4' } } });
  nc = await connect({ servers: stack.natsUrl });
  auth = serviceClient(AuthService, stack, 'auth');
  contacts = serviceClient(ContactService, stack, 'auth');
  devices = serviceClient(DeviceService, stack, 'auth');
  conversations = serviceClient(ConversationService, stack, 'messaging');
  accounts = new Accounts({ auth, devices });
});

afterAll(async () => {
  await nc?.close();
  await stack?.cleanup();
});

describe('OpenDirectConversation', () => {
  it('creates one conversation with both as members, and finds the same one from either side', async () => {
    const a = await account();
    const b = await account();
    const first = await conversations.openDirectConversation({ userId: b.userId }, a.as);
    expect(first.created).toBe(true);
    expect(first.conversation?.kind).toBe(ConversationKind.DIRECT);
    expect(first.conversation?.members.map((m) => [m.userId, m.role])).toEqual(
      [a.userId, b.userId].sort().map((id) => [id, MemberRole.MEMBER]),
    );
    const back = await conversations.openDirectConversation({ userId: a.userId }, b.as);
    expect([back.created, back.conversation?.id]).toEqual([false, first.conversation?.id]);
  });

  it('gives one conversation when both sides open it at the same moment', async () => {
    const a = await account();
    const b = await account();
    const opened = await Promise.all([
      conversations.openDirectConversation({ userId: b.userId }, a.as),
      conversations.openDirectConversation({ userId: a.userId }, b.as),
      conversations.openDirectConversation({ userId: b.userId }, a.as),
      conversations.openDirectConversation({ userId: a.userId }, b.as),
    ]);
    expect(new Set(opened.map((o) => o.conversation?.id)).size).toBe(1);
    expect(opened.filter((o) => o.created)).toHaveLength(1);
    const rows = await stack.query('messaging', 'select user_id from conversation_member where conversation_id = $1', [opened[0]!.conversation!.id]);
    expect(rows).toHaveLength(2);
  });

  it('validates the other user and needs a token', async () => {
    const a = await account();
    expect((await connectErrorOf(conversations.openDirectConversation({ userId: randomUUID() }))).code).toBe(Code.Unauthenticated);
    const self = await connectErrorOf(conversations.openDirectConversation({ userId: a.userId }, a.as));
    expect([self.code, self.rawMessage]).toEqual([Code.InvalidArgument, "you can't open a conversation with yourself"]);
    const malformed = await connectErrorOf(conversations.openDirectConversation({ userId: 'bob' }, a.as));
    expect([malformed.code, malformed.rawMessage]).toEqual([Code.InvalidArgument, 'invalid request: user_id: must be a valid UUID [string.uuid]']);
    const unknown = randomUUID();
    const missing = await connectErrorOf(conversations.openDirectConversation({ userId: unknown }, a.as));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, `no user has id ${unknown}`]);
  });

  it('is refused either way while a block stands, and allowed again once it is lifted', async () => {
    const a = await account();
    const b = await account();
    await becomeContacts(a, b);
    await contacts.blockUser({ userId: b.userId }, a.as);
    await eventually(() => openOutcome(b, a), (o) => o === Code.PermissionDenied);
    const err = await connectErrorOf(conversations.openDirectConversation({ userId: b.userId }, a.as));
    expect([err.code, err.rawMessage]).toEqual([Code.PermissionDenied, 'this user does not accept messages from you']);
    // The block ended the contact, in messaging's read-model too.
    await eventually(
      () => stack.query('messaging', 'select 1 from contact_projection where user_id in ($1, $2) and active', [a.userId, b.userId]),
      (rows) => rows.length === 0,
    );

    await contacts.unblockUser({ userId: b.userId }, a.as);
    await eventually(() => openOutcome(b, a), (o) => o === 'ok');
    expect(await openOutcome(a, b)).toBe('ok');
  });

  it('lets only contacts reach a user who accepts contacts only', async () => {
    const picky = await account();
    const friend = await account();
    const stranger = await account();
    await becomeContacts(friend, picky);
    await contacts.setPrivacy({ messagingPolicy: MessagingPolicy.CONTACTS_ONLY }, picky.as);
    await eventually(() => openOutcome(stranger, picky), (o) => o === Code.PermissionDenied);
    expect(await openOutcome(friend, picky)).toBe('ok');
    // The policy binds who may reach picky, not whom picky may reach.
    expect(await openOutcome(picky, stranger)).toBe('ok');

    await contacts.removeContact({ userId: picky.userId }, friend.as);
    await eventually(() => openOutcome(friend, picky), (o) => o === Code.PermissionDenied);
    await contacts.setPrivacy({ messagingPolicy: MessagingPolicy.EVERYONE }, picky.as);
    await eventually(() => openOutcome(stranger, picky), (o) => o === 'ok');
  });
});

/** Publishes an event as auth would have, dated `occurredAt`. */
async function publishAt<D extends DescMessage>(type: EventType<D>, payload: MessageInitShape<D>, occurredAt: Date): Promise<string> {
  const envelope = packEvent('auth', type, payload);
  envelope.occurredAt = timestampFromDate(occurredAt);
  await jetstream(nc).publish(stack.isolation.subjects.of(type), encodeEnvelope(envelope));
  return envelope.id;
}

describe('read-models', () => {
  it('keep the newer change when a block and its lifting arrive out of order', async () => {
    const a = await account();
    const b = await account();
    const blockedAt = new Date(Date.now() - 60_000);
    await publishAt(events.userUnblocked, { blockerId: b.userId, blockedId: a.userId }, new Date());
    await eventually(
      () => stack.query('messaging', 'select active from block_projection where blocker_id = $1', [b.userId]),
      (rows) => rows.length === 1,
    );
    const late = await publishAt(events.userBlocked, { blockerId: b.userId, blockedId: a.userId }, blockedAt);
    await eventually(
      () => stack.query('messaging', 'select 1 from processed_event where event_id = $1', [late]),
      (rows) => rows.length === 1,
    );
    expect(await stack.query('messaging', 'select active from block_projection where blocker_id = $1', [b.userId])).toEqual([{ active: false }]);
    expect(await openOutcome(a, b)).toBe('ok');
  });
});

describe('device read-model', () => {
  const deviceRows = (userId: string) =>
    stack.query('messaging', 'select device_id, registration_id, active from device_projection where user_id = $1 order by device_id', [userId]);

  it('follows the devices auth adds and revokes, with their registration ids', async () => {
    const a = await account();
    await eventually(() => deviceRows(a.userId), (rows) => rows.length === 1);
    expect(await deviceRows(a.userId)).toEqual([{ device_id: 1, registration_id: 1234, active: true }]);

    await accounts.linkWithPassword(a, { deviceName: 'Laptop', registrationId: 4321 });
    await eventually(() => deviceRows(a.userId), (rows) => rows.length === 2);
    expect(await deviceRows(a.userId)).toEqual([
      { device_id: 1, registration_id: 1234, active: true },
      { device_id: 2, registration_id: 4321, active: true },
    ]);

    await devices.revokeDevice({ deviceId: 2 }, a.as);
    await eventually(() => deviceRows(a.userId), (rows) => rows.length === 2 && rows[1]?.active === false);
    expect((await deviceRows(a.userId))[0]).toEqual({ device_id: 1, registration_id: 1234, active: true });
  });

  it('keeps a revocation when the older addition arrives after it', async () => {
    const a = await account();
    const revoked = await publishAt(events.deviceRevoked, { userId: a.userId, deviceId: 5 }, new Date());
    // Consumers of different subjects run independently: the addition must come after the revocation was applied.
    await eventually(
      () => stack.query('messaging', 'select 1 from processed_event where event_id = $1', [revoked]),
      (rows) => rows.length === 1,
    );
    const late = await publishAt(events.deviceAdded, { userId: a.userId, deviceId: 5, registrationId: 55 }, new Date(Date.now() - 60_000));
    await eventually(
      () => stack.query('messaging', 'select 1 from processed_event where event_id = $1', [late]),
      (rows) => rows.length === 1,
    );
    expect((await deviceRows(a.userId)).filter((r) => r.device_id === 5)).toEqual([{ device_id: 5, registration_id: 0, active: false }]);
  });
});

describe('auth.account.deleted', () => {
  it('wipes the user from every messaging table, with their direct conversations', async () => {
    const gone = await account();
    const friend = await account();
    const other = await account();
    await becomeContacts(gone, friend);
    await contacts.blockUser({ userId: gone.userId }, other.as);
    await contacts.setPrivacy({ messagingPolicy: MessagingPolicy.CONTACTS_ONLY }, gone.as);
    await eventually(
      () => stack.query('messaging', 'select 1 from messaging_policy_projection where user_id = $1', [gone.userId]),
      (rows) => rows.length === 1,
    );
    await eventually(
      () => stack.query('messaging', 'select 1 from block_projection where blocked_id = $1 and active', [gone.userId]),
      (rows) => rows.length === 1,
    );
    const kept = await conversations.openDirectConversation({ userId: other.userId }, friend.as);
    const dropped = await conversations.openDirectConversation({ userId: gone.userId }, friend.as);

    await auth.deleteAccount({ password: PASSWORD }, gone.as);

    const holding = {
      user_projection: 'select 1 from user_projection where user_id = $1',
      device_projection: 'select 1 from device_projection where user_id = $1',
      block_projection: 'select 1 from block_projection where blocker_id = $1 or blocked_id = $1',
      contact_projection: 'select 1 from contact_projection where user_id = $1 or contact_user_id = $1',
      messaging_policy_projection: 'select 1 from messaging_policy_projection where user_id = $1',
      conversation_member: 'select 1 from conversation_member where user_id = $1',
    };
    for (const [table, sql] of Object.entries(holding)) {
      await eventually(
        async () => ({ table, rows: (await stack.query('messaging', sql, [gone.userId])).length }),
        (r) => r.rows === 0,
      );
    }
    expect(await stack.query('messaging', 'select 1 from conversation where id = $1', [dropped.conversation!.id])).toHaveLength(0);
    expect(await stack.query('messaging', 'select 1 from conversation_member where conversation_id = $1', [dropped.conversation!.id])).toHaveLength(0);
    expect(await stack.query('messaging', 'select 1 from conversation where id = $1', [kept.conversation!.id])).toHaveLength(1);
    expect((await connectErrorOf(conversations.openDirectConversation({ userId: gone.userId }, friend.as))).code).toBe(Code.NotFound);
  });
});
