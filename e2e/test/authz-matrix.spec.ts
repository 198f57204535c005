import { create, toJsonString, type DescMessage, type DescMethod, type DescService, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService, ContactService, ConversationService, DeviceService } from '@parley/proto';
import { connectErrorOf, eventually, startTestStack, type TestStack } from '@parley/testing';
import { SignJWT, importJWK, type JWK } from 'jose';
import { PASSWORD, clientsOf, linkWithPassword, signUp, type SignedInDevice } from './support/accounts.js';

/**
 * Every public RPC, called with no token, an expired token, a revoked device's token and another
 * user's token. Each row says what the call is and what another user's token may do with it.
 */
const PUBLIC_SERVICES: DescService[] = [AuthService, DeviceService, ContactService, ConversationService];

interface Fixture {
  alice: SignedInDevice;
  aliceTablet: SignedInDevice;
  aliceSessionId: string;
  pendingCode: string;
  bob: SignedInDevice;
  carol: SignedInDevice;
  dave: SignedInDevice;
  erin: SignedInDevice;
}

/** Unauthenticated RPCs: the request is the credential. An empty request must fail validation, not auth. */
type Row =
  | { kind: 'public' }
  | {
      kind: 'caller';
      request: (f: Fixture) => Record<string, unknown>;
      /** What another user's token gets: their own account only ('own'), or this error. */
      otherUser: 'own' | Code;
    };

const own = (request: (f: Fixture) => Record<string, unknown> = () => ({})): Row => ({ kind: 'caller', request, otherUser: 'own' });
const targeted = (request: (f: Fixture) => Record<string, unknown>, code = Code.NotFound): Row => ({ kind: 'caller', request, otherUser: code });

const MATRIX: Record<string, Row> = {
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
  'parley.auth.v1.DeviceService/ApproveLink': targeted((f) => ({ code: f.pendingCode })),
  'parley.auth.v1.DeviceService/CompleteLink': { kind: 'public' },
  'parley.auth.v1.ContactService/SendContactRequest': own((f) => ({ userId: f.bob.user.id })),
  'parley.auth.v1.ContactService/AcceptContactRequest': targeted((f) => ({ userId: f.carol.user.id })),
  'parley.auth.v1.ContactService/DeclineContactRequest': targeted((f) => ({ userId: f.carol.user.id })),
  'parley.auth.v1.ContactService/CancelContactRequest': targeted((f) => ({ userId: f.erin.user.id })),
  'parley.auth.v1.ContactService/RemoveContact': targeted((f) => ({ userId: f.bob.user.id })),
  'parley.auth.v1.ContactService/ListContacts': own(),
  'parley.auth.v1.ContactService/ListContactRequests': own(),
  'parley.auth.v1.ContactService/BlockUser': own((f) => ({ userId: f.bob.user.id })),
  'parley.auth.v1.ContactService/UnblockUser': own((f) => ({ userId: f.dave.user.id })),
  'parley.auth.v1.ContactService/ListBlockedUsers': own(),
  'parley.auth.v1.ContactService/GetPrivacy': own(),
  'parley.auth.v1.ContactService/SetPrivacy': own(() => ({ messagingPolicy: 2 })),
  'parley.auth.v1.ContactService/SearchUsers': own(() => ({ query: 'zzz_nobody' })),
  'parley.messaging.v1.ConversationService/OpenDirectConversation': own((f) => ({ userId: f.bob.user.id })),
};

const METHODS: DescMethod[] = PUBLIC_SERVICES.flatMap((s) => s.methods);
const name = (m: DescMethod) => `${m.parent.typeName}/${m.name}`;

let stack: TestStack;
let f: Fixture;
let expiredToken: string;
let revokedToken: string;

beforeAll(async () => {
  stack = await startTestStack();
  const [alice, bob, carol, dave, erin] = await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin'].map((p) => signUp(stack, p)));
  const laptop = await linkWithPassword(stack, alice!, 'Laptop');
  const aliceTablet = await linkWithPassword(stack, alice!, 'Tablet');
  await alice!.devices.revokeDevice({ deviceId: laptop.deviceId });
  revokedToken = laptop.tokens.accessToken;
  const { code: pendingCode } = await alice!.devices.createLinkCode({});
  await clientsOf(stack).devices.linkDevice({ code: pendingCode, deviceName: 'Pending', registrationId: 5 });
  await alice!.contacts.sendContactRequest({ userId: bob!.user.id });
  await bob!.contacts.acceptContactRequest({ userId: alice!.user.id });
  await carol!.contacts.sendContactRequest({ userId: alice!.user.id });
  await alice!.contacts.sendContactRequest({ userId: erin!.user.id });
  await alice!.contacts.blockUser({ userId: dave!.user.id });
  const sessions = await alice!.auth.listSessions({});
  const aliceSessionId = sessions.sessions.find((s) => s.current)!.id;
  f = { alice: alice!, aliceTablet, aliceSessionId, pendingCode, bob: bob!, carol: carol!, dave: dave!, erin: erin! };
  expiredToken = await expiredTokenOf(alice!, aliceSessionId);
});

afterAll(() => stack?.cleanup());

async function expiredTokenOf(device: SignedInDevice, sessionId: string): Promise<string> {
  const jwk = JSON.parse(stack.services.auth.env.AUTH_SIGNING_KEY!) as JWK & { kid: string };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: sessionId, did: device.deviceId })
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer('parley-auth')
    .setAudience('parley')
    .setSubject(device.user.id)
    .setIssuedAt(now - 1000)
    .setExpirationTime(now - 100)
    .sign(await importJWK(jwk, 'EdDSA'));
}

async function call(method: DescMethod, request: Record<string, unknown>, token?: string): Promise<unknown> {
  const client = createClient(method.parent, createConnectTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' })) as unknown as Record<
    string,
    (req: unknown, opts: unknown) => Promise<unknown>
  >;
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  return client[method.localName]!(create(method.input, request as MessageInitShape<DescMessage>), { headers });
}

async function errorOf(method: DescMethod, request: Record<string, unknown>, token?: string): Promise<ConnectError> {
  return connectErrorOf(call(method, request, token));
}

/** Everything that identifies Alice; none of it may reach another user. */
function aliceSecrets(): string[] {
  return [f.alice.user.id, f.alice.user.username, f.aliceSessionId, 'Tablet', 'Pending'];
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
    if (r.kind === 'public') {
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
    const err = await errorOf(method, r.kind === 'public' ? {} : r.request(f), expiredToken);
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'access token expired: get a new one with AuthService/Refresh']);
  });

  it("with a revoked device's token", async () => {
    const r = row();
    const err = await errorOf(method, r.kind === 'public' ? {} : r.request(f), revokedToken);
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'session has ended: log in again']);
  });

});

const CALLER_METHODS = METHODS.filter((m) => MATRIX[name(m)]?.kind === 'caller');

describe.each(CALLER_METHODS.map((m) => [name(m), m] as const))("%s with another user's token", (_name, method) => {
  it('touches only their own account, or is refused without naming anything of Alice', async () => {
    const r = MATRIX[name(method)] as Extract<Row, { kind: 'caller' }>;
    const mallory = await signUp(stack, 'mallory');
    if (r.otherUser === 'own') {
      const res = await call(method, r.request(f), mallory.tokens.accessToken);
      const json = toJsonString(method.output, res as never);
      for (const secret of aliceSecrets()) expect(json).not.toContain(secret);
    } else {
      const err = await errorOf(method, r.request(f), mallory.tokens.accessToken);
      expect(err.code).toBe(r.otherUser);
      for (const secret of aliceSecrets()) expect(err.rawMessage).not.toContain(secret);
    }
  });
});

describe("after the matrix, Alice's account is as she left it", () => {
  it('keeps her sessions, devices, contacts, requests, blocks, profile and privacy', async () => {
    const { alice, aliceTablet } = f;
    expect((await alice.auth.getMe({})).user?.displayName).toBe('');
    expect((await aliceTablet.auth.getMe({})).device?.name).toBe('Tablet');
    expect((await alice.devices.listDevices({})).devices.map((d) => d.deviceId)).toEqual([1, 3]);
    expect((await alice.contacts.listContacts({})).contacts.map((c) => c.user?.id)).toEqual([f.bob.user.id]);
    const requests = await alice.contacts.listContactRequests({});
    expect(requests.incoming.map((r) => r.from?.id)).toEqual([f.carol.user.id]);
    expect(requests.outgoing.map((r) => r.to?.id)).toEqual([f.erin.user.id]);
    expect((await alice.contacts.listBlockedUsers({})).users.map((u) => u.id)).toEqual([f.dave.user.id]);
    expect((await alice.contacts.getPrivacy({})).messagingPolicy).toBe(1);
    await eventually(
      () => alice.conversations.openDirectConversation({ userId: f.bob.user.id }).then(() => true, () => false),
      (ok) => ok,
    );
  });
});
