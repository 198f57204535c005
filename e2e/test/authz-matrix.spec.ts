import { randomUUID } from 'node:crypto';
import { create, toJsonString, type DescMessage, type DescMethod, type DescService, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type CallOptions } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import {
  AuthService,
  ContactService,
  ConversationService,
  DeliveryService,
  DeviceService,
  KeyService,
  MediaService,
  MemberRole,
  MessageService,
  ModerationService,
  ModeratorService,
  ReportReason,
  Role,
  SanctionKind,
  StorageService,
  type Conversation,
  type Delivery,
  type OutgoingEnvelope,
} from '@parley/proto';
import { PASSWORD, TusClient, connectErrorOf, edgeClient, eventually, newDeviceIdentity, startTestStack, type TestStack } from '@parley/testing';
import { SignJWT, importJWK, type JWK } from 'jose';
import { clientsOf, linkWithPassword, signUp, type EdgeDevice } from './support/accounts.js';
import { createGroup, opaqueEnvelope, openDirect, sendWhenDevicesKnown } from './support/messages.js';
import { SignalDevice } from './support/signal-client.js';
import { moderationClientsOf, untilModerationKnows, withFirstAdmin } from './support/moderation.js';
import { closeAllSubscriptions, deliveriesOf, queueOf } from './support/subscription.js';

/**
 * Every public RPC, called with no token, an expired token, a revoked device's token and another
 * user's token. Each row says what the call is and what another user's token may do with it.
 */
const PUBLIC_SERVICES: DescService[] = [
  AuthService,
  DeviceService,
  ContactService,
  ConversationService,
  MessageService,
  DeliveryService,
  StorageService,
  KeyService,
  MediaService,
  ModerationService,
  ModeratorService,
];

interface Fixture {
  alice: EdgeDevice;
  aliceTablet: EdgeDevice;
  aliceSessionId: string;
  pendingCode: string;
  /** The verification code of the device waiting on pendingCode. */
  pendingVerificationCode: string;
  bob: EdgeDevice;
  carol: EdgeDevice;
  dave: EdgeDevice;
  erin: EdgeDevice;
  /** Alice's primary device's libsignal keys, uploaded with ALICE_PRE_KEYS one-time keys of each kind. */
  aliceKeys: SignalDevice;
  /** Alice's direct conversation with Bob. */
  direct: Conversation;
  /** Alice's group: Alice the owner, Bob and Carol plain members. */
  group: Conversation;
  /** Alice's message to Bob (and her tablet) in `direct`. */
  aliceMessageId: string;
  /** An envelope for Bob's device: what a send into `direct` must carry. */
  toBob: OutgoingEnvelope;
  /** Bob's message to Alice: the deliveries in the queue of Alice's primary device. */
  bobMessageId: string;
  aliceDeliveryIds: bigint[];
  /** Alice's attachment, granted to `group`. */
  aliceAttachmentId: string;
  /** The admin from moderation's config, and a moderator that admin granted. */
  admin: EdgeDevice;
  moderator: EdgeDevice;
}

const ALICE_PRE_KEYS = 5;
/** An item Alice stores; other users use the same key for their own. */
const ALICE_ITEM_KEY = 'draft.alice';
const ALICE_ITEM = new TextEncoder().encode('ciphertext of a draft');

/**
 * Unauthenticated RPCs: 'public' ones take the request as the credential (an empty request must
 * fail validation, not auth); 'open' ones answer anyone (an empty request succeeds).
 */
type Row =
  | { kind: 'public' }
  | { kind: 'open' }
  | {
      kind: 'caller';
      request: (f: Fixture) => Record<string, unknown>;
      /**
       * What another user's token gets: their own account only ('own'), what anyone may see of
       * Alice ('public': her public keys), or this error.
       */
      otherUser: 'own' | 'public' | Code;
      /** keys learns devices from auth's events: a brand-new device may get FAILED_PRECONDITION for a moment. */
      newDeviceWaits?: boolean;
      /** A ModeratorService RPC: the role it needs beyond any user's. */
      roleHolders?: 'moderator' | 'admin';
    };

const own = (request: (f: Fixture) => Record<string, unknown> = () => ({})): Row => ({ kind: 'caller', request, otherUser: 'own' });
const targeted = (request: (f: Fixture) => Record<string, unknown>, code = Code.NotFound): Row => ({ kind: 'caller', request, otherUser: code });
/** ModeratorService: PERMISSION_DENIED at the edge for a caller without a role; `admin` RPCs refuse moderators too. */
const moderatorRpc = (request: (f: Fixture) => Record<string, unknown>, needs: 'moderator' | 'admin' = 'moderator'): Row => ({ kind: 'caller', request, otherUser: Code.PermissionDenied, roleHolders: needs });
const ownDevice = (request: (f: Fixture) => Record<string, unknown> = () => ({})): Row => ({ kind: 'caller', request, otherUser: 'own', newDeviceWaits: true });

const MATRIX: Record<string, Row> = {
  'parley.auth.v1.AuthService/GetRegistrationChallenge': { kind: 'open' },
  'parley.auth.v1.AuthService/Register': { kind: 'public' },
  'parley.auth.v1.AuthService/Login': { kind: 'public' },
  'parley.auth.v1.AuthService/Refresh': { kind: 'public' },
  'parley.auth.v1.AuthService/RequestPasswordReset': { kind: 'public' },
  'parley.auth.v1.AuthService/ResetPassword': { kind: 'public' },
  'parley.auth.v1.AuthService/Logout': own(),
  'parley.auth.v1.AuthService/GetMe': own(),
  'parley.auth.v1.AuthService/ChangePassword': own(() => ({ currentPassword: PASSWORD, newPassword: 'another fine passphrase 9' })),
  'parley.auth.v1.AuthService/ListSessions': own(),
  'parley.auth.v1.AuthService/RevokeSession': targeted((f) => ({ sessionId: f.aliceSessionId })),
  'parley.auth.v1.AuthService/LogoutEverywhere': own(),
  'parley.auth.v1.AuthService/UpdateProfile': own(() => ({ displayName: 'Mallory' })),
  'parley.auth.v1.AuthService/DeleteAccount': own(() => ({ password: PASSWORD })),
  'parley.auth.v1.DeviceService/ListDevices': own(),
  'parley.auth.v1.DeviceService/RenameDevice': targeted(() => ({ deviceId: 3, name: 'Stolen' })),
  'parley.auth.v1.DeviceService/RevokeDevice': targeted(() => ({ deviceId: 3 })),
  'parley.auth.v1.DeviceService/CreateLinkCode': own(),
  'parley.auth.v1.DeviceService/LinkDevice': { kind: 'public' },
  'parley.auth.v1.DeviceService/ApproveLink': targeted((f) => ({ code: f.pendingCode, verificationCode: f.pendingVerificationCode })),
  'parley.auth.v1.DeviceService/CompleteLink': { kind: 'public' },
  'parley.auth.v1.ContactService/SendContactRequest': own((f) => ({ userId: f.bob.userId })),
  'parley.auth.v1.ContactService/AcceptContactRequest': targeted((f) => ({ userId: f.carol.userId })),
  'parley.auth.v1.ContactService/DeclineContactRequest': targeted((f) => ({ userId: f.carol.userId })),
  'parley.auth.v1.ContactService/CancelContactRequest': targeted((f) => ({ userId: f.erin.userId })),
  'parley.auth.v1.ContactService/RemoveContact': targeted((f) => ({ userId: f.bob.userId })),
  'parley.auth.v1.ContactService/ListContacts': own(),
  'parley.auth.v1.ContactService/ListContactRequests': own(),
  'parley.auth.v1.ContactService/BlockUser': own((f) => ({ userId: f.bob.userId })),
  'parley.auth.v1.ContactService/UnblockUser': own((f) => ({ userId: f.dave.userId })),
  'parley.auth.v1.ContactService/ListBlockedUsers': own(),
  'parley.auth.v1.ContactService/GetPrivacy': own(),
  'parley.auth.v1.ContactService/SetPrivacy': own(() => ({ messagingPolicy: 2 })),
  'parley.auth.v1.ContactService/SearchUsers': own(() => ({ query: 'zzz_nobody' })),
  'parley.messaging.v1.ConversationService/OpenDirectConversation': own((f) => ({ userId: f.bob.userId })),
  'parley.messaging.v1.ConversationService/CreateGroup': own((f) => ({ memberUserIds: [f.carol.userId] })),
  // Another user's conversation is NOT_FOUND, the same as one that doesn't exist.
  'parley.messaging.v1.ConversationService/GetConversation': targeted((f) => ({ conversationId: f.direct.id })),
  'parley.messaging.v1.ConversationService/ListConversations': own(),
  'parley.messaging.v1.ConversationService/AddMembers': targeted((f) => ({ conversationId: f.group.id, userIds: [f.erin.userId] })),
  'parley.messaging.v1.ConversationService/RemoveMember': targeted((f) => ({ conversationId: f.group.id, userId: f.bob.userId })),
  'parley.messaging.v1.ConversationService/LeaveGroup': targeted((f) => ({ conversationId: f.group.id })),
  'parley.messaging.v1.ConversationService/SetMemberRole': targeted((f) => ({ conversationId: f.group.id, userId: f.bob.userId, role: MemberRole.ADMIN })),
  'parley.messaging.v1.ConversationService/TransferOwnership': targeted((f) => ({ conversationId: f.group.id, newOwnerUserId: f.bob.userId })),
  'parley.messaging.v1.ConversationService/UpdateGroupInfo': targeted((f) => ({ conversationId: f.group.id, encryptedInfo: new Uint8Array([1, 2, 3]) })),
  'parley.messaging.v1.ConversationService/UpdateMemberSettings': targeted((f) => ({ conversationId: f.direct.id, archived: true })),
  // A fresh client_message_id each call, so a call is never answered as a retry.
  'parley.messaging.v1.MessageService/SendMessage': targeted((f) => ({ conversationId: f.direct.id, clientMessageId: randomUUID(), envelopes: [f.toBob] })),
  'parley.messaging.v1.MessageService/RetractMessage': targeted((f) => ({ conversationId: f.direct.id, messageId: f.aliceMessageId })),
  'parley.messaging.v1.MessageService/GetDeliveryStatus': targeted((f) => ({ messageId: f.aliceMessageId })),
  // Acks only ever touch the caller's own queue: Alice's ids ack nothing of hers (see below).
  'parley.messaging.v1.MessageService/AckDeliveries': own((f) => ({ deliveryIds: f.aliceDeliveryIds })),
  // The caller's own device's queue; the first response is read.
  'parley.messaging.v1.DeliveryService/Subscribe': ownDevice(),
  'parley.messaging.v1.StorageService/PutItem': own(() => ({ key: ALICE_ITEM_KEY, value: new TextEncoder().encode('mallory') })),
  'parley.messaging.v1.StorageService/GetItem': targeted(() => ({ key: ALICE_ITEM_KEY })),
  'parley.messaging.v1.StorageService/ListItems': own(),
  'parley.messaging.v1.StorageService/DeleteItem': own(() => ({ key: ALICE_ITEM_KEY })),
  // Keys go to the caller's own device; a fresh set each call, so a repeat is never a duplicate.
  'parley.keys.v1.KeyService/UploadKeys': ownDevice(() => new SignalDevice('mallory', 1, 1).uploadRequest({ preKeys: 1, pqPreKeys: 1 })),
  'parley.keys.v1.KeyService/GetPreKeyCounts': ownDevice(),
  // Anyone may claim a bundle of Alice's, unless one of them blocks the other (see below).
  'parley.keys.v1.KeyService/GetPreKeyBundles': { kind: 'caller', request: (f) => ({ userId: f.alice.userId, deviceId: 0 }), otherUser: 'public' },
  'parley.keys.v1.KeyService/GetTreeHead': own(),
  'parley.keys.v1.KeyService/GetConsistencyProof': own(() => ({ fromSize: 1n, toSize: 1n })),
  'parley.media.v1.MediaService/GrantAttachment': targeted((f) => ({ attachmentId: f.aliceAttachmentId, conversationId: f.group.id })),
  'parley.media.v1.MediaService/DeleteAttachment': targeted((f) => ({ attachmentId: f.aliceAttachmentId })),
  'parley.media.v1.MediaService/GetAttachment': targeted((f) => ({ attachmentId: f.aliceAttachmentId })),
  // Anyone may report anyone but themselves; a conversation and its messages only from inside it.
  'parley.moderation.v1.ModerationService/ReportUser': own((f) => ({ userId: f.carol.userId, reason: ReportReason.SPAM })),
  'parley.moderation.v1.ModerationService/ReportMessage': targeted((f) => ({ conversationId: f.direct.id, messageId: f.aliceMessageId, senderUserId: f.alice.userId, reason: ReportReason.SPAM })),
  'parley.moderation.v1.ModerationService/ReportConversation': targeted((f) => ({ conversationId: f.group.id, reason: ReportReason.SPAM })),
  'parley.moderation.v1.ModerationService/ListMyReports': own(),
  // The moderator console: the edge refuses everyone without a role (see the role holders below).
  'parley.moderation.v1.ModeratorService/ListCases': moderatorRpc(() => ({})),
  'parley.moderation.v1.ModeratorService/GetCase': moderatorRpc(() => ({ caseId: randomUUID() })),
  'parley.moderation.v1.ModeratorService/AssignCase': moderatorRpc(() => ({ caseId: randomUUID() })),
  'parley.moderation.v1.ModeratorService/AddCaseNote': moderatorRpc(() => ({ caseId: randomUUID(), text: 'note' })),
  'parley.moderation.v1.ModeratorService/CloseCase': moderatorRpc(() => ({ caseId: randomUUID(), state: 3 })),
  'parley.moderation.v1.ModeratorService/ApplySanction': moderatorRpc((f) => ({ userId: f.erin.userId, kind: SanctionKind.WARN, reason: ReportReason.SPAM })),
  'parley.moderation.v1.ModeratorService/LiftSanction': moderatorRpc((f) => ({ userId: f.erin.userId })),
  'parley.moderation.v1.ModeratorService/ListSanctions': moderatorRpc((f) => ({ userId: f.erin.userId })),
  'parley.moderation.v1.ModeratorService/GrantRole': moderatorRpc((f) => ({ userId: f.erin.userId, role: Role.MODERATOR }), 'admin'),
  'parley.moderation.v1.ModeratorService/RevokeRole': moderatorRpc((f) => ({ userId: f.erin.userId, role: Role.MODERATOR }), 'admin'),
  'parley.moderation.v1.ModeratorService/ListAuditLog': moderatorRpc(() => ({})),
  'parley.moderation.v1.ModeratorService/VerifyAuditLog': moderatorRpc(() => ({})),
  'parley.moderation.v1.ModeratorService/GetStats': moderatorRpc(() => ({})),
};

const METHODS: DescMethod[] = PUBLIC_SERVICES.flatMap((s) => s.methods);
const name = (m: DescMethod) => `${m.parent.typeName}/${m.name}`;

let stack: TestStack;
let f: Fixture;
let expiredToken: string;
let revokedToken: string;

beforeAll(async () => {
  stack = await startTestStack();
  const [alice, bob, carol, dave, erin, admin, moderator] = await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin', 'admin', 'mod'].map((p) => signUp(stack, p)));
  await withFirstAdmin(stack, admin!.userId);
  await untilModerationKnows(stack, [alice!, bob!, carol!, dave!, erin!, admin!, moderator!].map((d) => d.userId));
  await moderationClientsOf(stack, admin).console.grantRole({ userId: moderator!.userId, role: Role.MODERATOR });
  const laptop = await linkWithPassword(stack, alice!, 'Laptop');
  const aliceTablet = await linkWithPassword(stack, alice!, 'Tablet');
  await alice!.devices.revokeDevice({ deviceId: laptop.deviceId });
  revokedToken = laptop.tokens.accessToken;
  const { code: pendingCode } = await alice!.devices.createLinkCode({});
  const { verificationCode: pendingVerificationCode } = await clientsOf(stack).devices.linkDevice({
    code: pendingCode,
    deviceName: 'Pending',
    registrationId: 5,
    identityKey: newDeviceIdentity().publicKey,
  });
  await alice!.contacts.sendContactRequest({ userId: bob!.userId });
  await bob!.contacts.acceptContactRequest({ userId: alice!.userId });
  await carol!.contacts.sendContactRequest({ userId: alice!.userId });
  await alice!.contacts.sendContactRequest({ userId: erin!.userId });
  await alice!.contacts.blockUser({ userId: dave!.userId });
  const sessions = await alice!.auth.listSessions({});
  const aliceSessionId = sessions.sessions.find((s) => s.current)!.id;
  const aliceKeys = new SignalDevice(alice!.userId, alice!.deviceId, 1);
  const upload = aliceKeys.uploadRequest({ preKeys: ALICE_PRE_KEYS, pqPreKeys: ALICE_PRE_KEYS });
  // keys learns Alice's device from the auth.device.added event.
  const refusal = await eventually(
    () => keysOf(alice!).uploadKeys(upload).then(() => undefined, (err) => ConnectError.from(err)),
    (err) => err?.code !== Code.FailedPrecondition,
  );
  if (refusal) throw refusal;
  const messaging = await messagingFixture(alice!, aliceTablet, bob!, carol!);
  const aliceAttachmentId = await grantedAttachment(alice!, messaging.group.id);
  f = {
    alice: alice!,
    aliceTablet,
    aliceSessionId,
    pendingCode,
    pendingVerificationCode,
    bob: bob!,
    carol: carol!,
    dave: dave!,
    erin: erin!,
    aliceKeys,
    ...messaging,
    aliceAttachmentId,
    admin: admin!,
    moderator: moderator!,
  };
  expiredToken = await expiredTokenOf(alice!, aliceSessionId);
});

afterEach(closeAllSubscriptions);

afterAll(() => stack?.cleanup());

/** Alice's conversations, a message each way between her and Bob, and a stored item. */
async function messagingFixture(alice: EdgeDevice, aliceTablet: EdgeDevice, bob: EdgeDevice, carol: EdgeDevice) {
  const direct = await openDirect(alice, bob);
  const group = await createGroup(alice, [bob, carol]);
  const toBob = opaqueEnvelope(bob, 'from Alice');
  const aliceMessage = await sendWhenDevicesKnown(alice.messages, direct.id, [toBob, opaqueEnvelope(aliceTablet, 'from Alice')]);
  const bobMessage = await sendWhenDevicesKnown(bob.messages, direct.id, [opaqueEnvelope(alice, 'from Bob'), opaqueEnvelope(aliceTablet, 'from Bob')]);
  const aliceDeliveryIds = deliveriesOf(bobMessage.messageId, await queueOf(stack.edgeUrl, alice)).map((d) => d.id);
  if (aliceDeliveryIds.length !== 1) throw new Error(`expected Bob's message once in Alice's queue, found it ${aliceDeliveryIds.length} times`);
  await alice.storage.putItem({ key: ALICE_ITEM_KEY, value: ALICE_ITEM });
  return { direct, group, toBob, aliceMessageId: aliceMessage.messageId, bobMessageId: bobMessage.messageId, aliceDeliveryIds };
}

const ATTACHMENT = new TextEncoder().encode('ciphertext of a photo');
const tusOf = (device: EdgeDevice) => new TusClient(stack.edgeUrl, device.tokens.accessToken);

/** Uploads an attachment of `owner`'s and grants it to a conversation, once media knows its members. */
async function grantedAttachment(owner: EdgeDevice, conversationId: string): Promise<string> {
  const attachmentId = await tusOf(owner).upload(ATTACHMENT);
  const refusal = await eventually(
    () => owner.media.grantAttachment({ attachmentId, conversationId }).then(() => undefined, (err) => ConnectError.from(err)),
    (err) => err?.code !== Code.NotFound,
  );
  if (refusal) throw refusal;
  return attachmentId;
}

const keysOf = (device: EdgeDevice) => edgeClient(KeyService, stack.edgeUrl, { accessToken: device.tokens.accessToken });

async function expiredTokenOf(device: EdgeDevice, sessionId: string): Promise<string> {
  const jwk = JSON.parse(stack.services.auth.env.AUTH_SIGNING_KEY!) as JWK & { kid: string };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: sessionId, did: device.deviceId })
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer('parley-auth')
    .setAudience('parley')
    .setSubject(device.userId)
    .setIssuedAt(now - 1000)
    .setExpirationTime(now - 100)
    .sign(await importJWK(jwk, 'EdDSA'));
}

/** Calls `method` through the edge; a server-streaming call answers with its first response, or its error. */
async function call(method: DescMethod, request: Record<string, unknown>, token?: string): Promise<unknown> {
  const client = createClient(method.parent, createConnectTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' })) as unknown as Record<
    string,
    (req: unknown, opts: CallOptions) => unknown
  >;
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const input = create(method.input, request as MessageInitShape<DescMessage>);
  if (method.methodKind !== 'server_streaming') return client[method.localName]!(input, { headers });
  const abort = new AbortController();
  try {
    for await (const res of client[method.localName]!(input, { headers, signal: abort.signal }) as AsyncIterable<unknown>) return res;
    throw new Error(`${name(method)} ended without a response`);
  } finally {
    abort.abort();
  }
}

async function errorOf(method: DescMethod, request: Record<string, unknown>, token?: string): Promise<ConnectError> {
  return connectErrorOf(call(method, request, token));
}

/** Everything that identifies Alice; none of it may reach another user. */
function aliceSecrets(): string[] {
  return [f.alice.userId, f.alice.username, f.aliceSessionId, 'Tablet', 'Pending'];
}

describe('the matrix', () => {
  it('covers exactly the services the edge serves, every method of them', async () => {
    const res = await fetch(`${stack.edgeUrl}/no.such.Service/Nothing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { message } = (await res.json()) as { message: string };
    const served = message.slice(message.lastIndexOf(' for ') + 5).split(', ').sort();
    expect(served).toEqual(PUBLIC_SERVICES.map((s) => s.typeName).sort());
    expect(Object.keys(MATRIX).sort()).toEqual(METHODS.map(name).sort());
  });
});

describe.each(METHODS.map((m) => [name(m), m] as const))('%s', (_name, method) => {
  const row = () => MATRIX[name(method)]!;

  it('without a token', async () => {
    const r = row();
    if (r.kind === 'open') {
      await expect(call(method, {})).resolves.toBeDefined();
    } else if (r.kind === 'public') {
      // Served without a token: an empty request is refused for what it lacks, not for who sent it.
      const err = await errorOf(method, {});
      expect(err.code).not.toBe(Code.Unauthenticated);
      expect([Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition]).toContain(err.code);
    } else {
      const err = await errorOf(method, r.request(f));
      expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'missing access token: send "Authorization: Bearer <access token>"']);
    }
  });

  it('with an expired token', async () => {
    const r = row();
    const err = await errorOf(method, r.kind === 'caller' ? r.request(f) : {}, expiredToken);
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'access token expired: get a new one with AuthService/Refresh']);
  });

  it("with a revoked device's token", async () => {
    const r = row();
    const err = await errorOf(method, r.kind === 'caller' ? r.request(f) : {}, revokedToken);
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'session has ended: log in again']);
  });

});

const CALLER_METHODS = METHODS.filter((m) => MATRIX[name(m)]?.kind === 'caller');

describe.each(CALLER_METHODS.map((m) => [name(m), m] as const))("%s with another user's token", (_name, method) => {
  it('touches only their own account, or is refused without naming anything of Alice', async () => {
    const r = MATRIX[name(method)] as Extract<Row, { kind: 'caller' }>;
    const mallory = await signUp(stack, 'mallory');
    if (r.otherUser === 'own' || r.otherUser === 'public') {
      const res = r.newDeviceWaits
        ? await eventually(
            () => call(method, r.request(f), mallory.tokens.accessToken).catch((err) => ConnectError.from(err)),
            (res) => !(res instanceof ConnectError && res.code === Code.FailedPrecondition),
          )
        : await call(method, r.request(f), mallory.tokens.accessToken);
      if (res instanceof ConnectError) throw res;
      const json = toJsonString(method.output, res as never);
      for (const secret of aliceSecrets()) expect(json).not.toContain(secret);
    } else {
      const err = await errorOf(method, r.request(f), mallory.tokens.accessToken);
      expect(err.code).toBe(r.otherUser);
      for (const secret of aliceSecrets()) expect(err.rawMessage).not.toContain(secret);
    }
  });
});

const ROLE_METHODS = METHODS.filter((m) => (MATRIX[name(m)] as { roleHolders?: string }).roleHolders);

describe.each(ROLE_METHODS.map((m) => [name(m), m] as const))('%s for role holders', (_name, method) => {
  it('is passed on for a moderator only when it needs no admin, and always for the admin', async () => {
    const r = MATRIX[name(method)] as Extract<Row, { kind: 'caller' }>;
    const codeOf = (device: EdgeDevice) => call(method, r.request(f), device.tokens.accessToken).then(() => 'ok', (err) => Code[ConnectError.from(err).code]);
    const [asModerator, asAdmin] = [await codeOf(f.moderator), await codeOf(f.admin)];
    // Past the gate the backend answers for the request itself (e.g. NOT_FOUND for a made-up case), never PERMISSION_DENIED.
    expect(asAdmin).not.toBe(Code[Code.PermissionDenied]);
    if (r.roleHolders === 'admin') expect(asModerator).toBe(Code[Code.PermissionDenied]);
    else expect(asModerator).not.toBe(Code[Code.PermissionDenied]);
  });
});

/** Claims of Alice's one-time keys made by the tests below (Mallory's is in the matrix). */
let daveClaims = 0;

describe('KeyService/GetPreKeyBundles between users when one blocks the other', () => {
  it('is answered NOT_FOUND both ways, as for a user without keys, naming nothing of Alice but her id', async () => {
    // Alice blocked Dave; keys learns of it from the auth.user.blocked event.
    const daveAsks = await eventually(
      () =>
        keysOf(f.dave)
          .getPreKeyBundles({ userId: f.alice.userId, deviceId: 0 })
          .then(
            () => void daveClaims++,
            (err) => ConnectError.from(err),
          ),
      (err) => err !== undefined,
    );
    const aliceAsks = await connectErrorOf(keysOf(f.alice).getPreKeyBundles({ userId: f.dave.userId, deviceId: 0 }));
    expect([daveAsks!.code, daveAsks!.rawMessage]).toEqual([Code.NotFound, `user ${f.alice.userId} has no devices with keys`]);
    expect([aliceAsks.code, aliceAsks.rawMessage]).toEqual([Code.NotFound, `user ${f.dave.userId} has no devices with keys`]);
    // Her id is what Dave asked about; nothing else of hers is named.
    for (const secret of aliceSecrets().slice(1)) expect(daveAsks!.rawMessage).not.toContain(secret);
  });
});

describe('the media HTTP routes (tus uploads, downloads)', () => {
  const download = (token?: string) =>
    fetch(`${stack.edgeUrl}/media/v1/attachments/${f.aliceAttachmentId}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const upload = (token?: string) =>
    fetch(`${stack.edgeUrl}/media/v1/uploads`, {
      method: 'POST',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': '10', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });

  it('refuse no token, an expired token and a revoked device at the edge (401), saying why', async () => {
    for (const send of [download, upload]) {
      const answers = await Promise.all([undefined, expiredToken, revokedToken].map(async (token) => {
        const res = await send(token);
        return [res.status, (await res.text()).trim()];
      }));
      expect(answers).toEqual([
        [401, 'missing access token: send "Authorization: Bearer <access token>"'],
        [401, 'access token expired: get a new one with AuthService/Refresh'],
        [401, 'session has ended: log in again'],
      ]);
    }
  });

  it("answer another user 404, as for an attachment that doesn't exist, and members 200", async () => {
    const mallory = await signUp(stack, 'mallory');
    const res = await download(mallory.tokens.accessToken);
    expect(res.status).toBe(404);
    const refusal = await res.text();
    for (const secret of aliceSecrets()) expect(refusal).not.toContain(secret);
    const carolGets = await download(f.carol.tokens.accessToken);
    expect([carolGets.status, Buffer.from(await carolGets.arrayBuffer()).equals(Buffer.from(ATTACHMENT))]).toEqual([200, true]);
  });
});

describe('a former member of a conversation an attachment was granted to', () => {
  it('can no longer get, grant or download it (NOT_FOUND, 404), like any stranger', async () => {
    const frank = await signUp(stack, 'frank');
    const group = await createGroup(f.alice, [frank]);
    const attachmentId = await grantedAttachment(f.alice, group.id);
    expect((await frank.media.getAttachment({ attachmentId })).attachment?.mine).toBe(false);
    await frank.conversations.leaveGroup({ conversationId: group.id });
    await eventually(
      () => frank.media.getAttachment({ attachmentId }).then(() => undefined, (err) => ConnectError.from(err)),
      (err) => err?.code === Code.NotFound,
    );
    expect((await connectErrorOf(frank.media.grantAttachment({ attachmentId, conversationId: group.id }))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(frank.media.deleteAttachment({ attachmentId }))).code).toBe(Code.NotFound);
    expect((await tusOf(frank).download(attachmentId)).status).toBe(404);
    expect((await tusOf(f.alice).download(attachmentId)).status).toBe(200);
  });
});

describe("a group's admin actions by a plain member", () => {
  it('are refused with PERMISSION_DENIED, and change nothing', async () => {
    const { bob, carol, erin, group } = f;
    const conversationId = group.id;
    const attempts: [string, Promise<unknown>][] = [
      ['AddMembers', bob.conversations.addMembers({ conversationId, userIds: [erin.userId] })],
      ['RemoveMember of a member', bob.conversations.removeMember({ conversationId, userId: carol.userId })],
      ['RemoveMember of the owner', bob.conversations.removeMember({ conversationId, userId: f.alice.userId })],
      ['SetMemberRole', bob.conversations.setMemberRole({ conversationId, userId: carol.userId, role: MemberRole.ADMIN })],
      ['TransferOwnership', bob.conversations.transferOwnership({ conversationId, newOwnerUserId: carol.userId })],
      ['UpdateGroupInfo', bob.conversations.updateGroupInfo({ conversationId, encryptedInfo: new Uint8Array([9]) })],
    ];
    const codes = await Promise.all(attempts.map(async ([what, attempt]) => [what, (await connectErrorOf(attempt)).code]));
    expect(codes).toEqual(attempts.map(([what]) => [what, Code.PermissionDenied]));
  });
});

describe('a message, to a member who did not send it', () => {
  it("can't be retracted by them (PERMISSION_DENIED), and its delivery status is not theirs to see (NOT_FOUND)", async () => {
    const retract = await connectErrorOf(f.bob.messages.retractMessage({ conversationId: f.direct.id, messageId: f.aliceMessageId }));
    const status = await connectErrorOf(f.bob.messages.getDeliveryStatus({ messageId: f.aliceMessageId }));
    expect([retract.code, status.code]).toEqual([Code.PermissionDenied, Code.NotFound]);
  });
});

describe("another device's queue", () => {
  it("can't be acked: Alice's delivery ids from Bob's token ack nothing, and Alice still gets them", async () => {
    expect((await f.bob.messages.ackDeliveries({ deliveryIds: f.aliceDeliveryIds })).acked).toBe(0);
    // Nor from Alice's own other device: a queue is a device's, not an account's.
    expect((await f.aliceTablet.messages.ackDeliveries({ deliveryIds: f.aliceDeliveryIds })).acked).toBe(0);
    const queue = await queueOf(stack.edgeUrl, f.alice);
    expect(deliveriesOf(f.bobMessageId, queue).map((d) => d.id)).toEqual(f.aliceDeliveryIds);
  });

  it("is never what Subscribe shows: each device sees only its own deliveries", async () => {
    const [phone, tablet, bob] = [await queueOf(stack.edgeUrl, f.alice), await queueOf(stack.edgeUrl, f.aliceTablet), await queueOf(stack.edgeUrl, f.bob)];
    const messagesIn = (queue: Delivery[]) => [f.aliceMessageId, f.bobMessageId].filter((id) => deliveriesOf(id, queue).length > 0);
    // Alice's phone sent her message and Bob sent his: neither is sent back to its sender's device.
    expect([messagesIn(phone), messagesIn(tablet), messagesIn(bob)]).toEqual([[f.bobMessageId], [f.aliceMessageId, f.bobMessageId], [f.aliceMessageId]]);
    const ids = [phone, tablet, bob].flatMap((queue) => queue.map((d) => d.id));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the limits of issue 12', () => {
  it("are per caller: another user who spent their bucket is refused with a retry-after, and Alice is not", async () => {
    const mallory = await signUp(stack, 'mallory');
    const proof = (d: EdgeDevice) => keysOf(d).getConsistencyProof({ fromSize: 1n, toSize: 1n });
    const refused = await eventually(
      () => proof(mallory).then(() => undefined, (err) => ConnectError.from(err)),
      (err) => err !== undefined,
    );
    expect([refused!.code, refused!.rawMessage.replace(/\d+ s$/, 'N s')]).toEqual([Code.ResourceExhausted, 'too many consistency proof requests; retry in N s']);
    for (const secret of aliceSecrets()) expect(refused!.rawMessage).not.toContain(secret);
    await expect(proof(f.alice)).resolves.toBeDefined();
  });
});

describe("after the matrix, Alice's account is as she left it", () => {
  it('keeps her sessions, devices, contacts, requests, blocks, profile and privacy', async () => {
    const { alice, aliceTablet } = f;
    expect((await alice.auth.getMe({})).user?.displayName).toBe('');
    expect((await aliceTablet.auth.getMe({})).device?.name).toBe('Tablet');
    expect((await alice.devices.listDevices({})).devices.map((d) => d.deviceId)).toEqual([1, 3]);
    expect((await alice.contacts.listContacts({})).contacts.map((c) => c.user?.id)).toEqual([f.bob.userId]);
    const requests = await alice.contacts.listContactRequests({});
    expect(requests.incoming.map((r) => r.from?.id)).toEqual([f.carol.userId]);
    expect(requests.outgoing.map((r) => r.to?.id)).toEqual([f.erin.userId]);
    expect((await alice.contacts.listBlockedUsers({})).users.map((u) => u.id)).toEqual([f.dave.userId]);
    expect((await alice.contacts.getPrivacy({})).messagingPolicy).toBe(1);
    await eventually(
      () => alice.conversations.openDirectConversation({ userId: f.bob.userId }).then(() => true, () => false),
      (ok) => ok,
    );
  });

  it('keeps her conversations, messages, queue and stored items', async () => {
    const { alice, direct, group } = f;
    const summary = (c: Conversation | undefined) => ({
      members: c?.members.map((m) => [m.userId, m.role]).sort(),
      encryptedInfo: c?.encryptedInfo,
      infoVersion: c?.infoVersion,
      lastSeq: c?.lastSeq,
      archived: c?.settings?.archived ?? false,
    });
    expect(summary((await alice.conversations.getConversation({ conversationId: direct.id })).conversation)).toEqual({ ...summary(direct), lastSeq: 2n });
    expect(summary((await alice.conversations.getConversation({ conversationId: group.id })).conversation)).toEqual(summary(group));
    expect((await f.bob.conversations.getConversation({ conversationId: direct.id })).conversation?.settings?.archived ?? false).toBe(false);
    const status = await alice.messages.getDeliveryStatus({ messageId: f.aliceMessageId });
    expect(status.retracted).toBe(false);
    expect(deliveriesOf(f.bobMessageId, await queueOf(stack.edgeUrl, alice)).map((d) => d.id)).toEqual(f.aliceDeliveryIds);
    expect((await alice.storage.getItem({ key: ALICE_ITEM_KEY })).item).toMatchObject({ value: ALICE_ITEM, version: 1n });
    expect((await alice.storage.listItems({})).items.map((i) => i.key)).toEqual([ALICE_ITEM_KEY]);
    const attachment = await tusOf(alice).download(f.aliceAttachmentId);
    expect([attachment.status, attachment.body.equals(Buffer.from(ATTACHMENT))]).toEqual([200, true]);
  });

  it('keeps her keys: her identity and signed prekey, less only the one-time keys others claimed', async () => {
    const { alice, aliceKeys } = f;
    const claimed = 1 + daveClaims;
    expect((await keysOf(alice).getPreKeyCounts({})).counts).toMatchObject({ preKeys: ALICE_PRE_KEYS - claimed, pqPreKeys: ALICE_PRE_KEYS - claimed });
    const { bundles } = await keysOf(f.bob).getPreKeyBundles({ userId: alice.userId, deviceId: 0 });
    expect(bundles.map((b) => [b.deviceId, b.signedPreKey?.keyId])).toEqual([[alice.deviceId, [...aliceKeys.signedPreKeys.records.keys()][0]]]);
    expect(bundles[0]!.identityKey).toEqual(aliceKeys.identity.publicKey.serialize());
  });
});
