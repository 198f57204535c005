import { randomUUID } from 'node:crypto';
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService, DeviceService, KeyService, type UploadKeysRequest } from '@parley/proto';
import { Accounts, PASSWORD, connectErrorOf, edgeClient, eventually, startTestStack, uniqueUsername, type TestStack } from '@parley/testing';
import { clientsOf, type EdgeDevice } from './support/accounts.js';
import { createGroup, opaqueEnvelope, openDirect, sendWhenDevicesKnown } from './support/messages.js';
import { SignalDevice } from './support/signal-client.js';

/**
 * Every limit of issue 12, reached through the edge with small sizes. Buckets refill over an hour
 * (sends: one a minute), so a test's calls all fall in the burst. The edge trusts one proxy hop,
 * so each account is registered from an address of its own (X-Forwarded-For), and only the
 * registration test shares one.
 */
const SIZES = {
  auth: { REGISTRATIONS_PER_ADDRESS: '2', REGISTRATIONS_PER_ADDRESS_REFILL_SECONDS: '3600', CONTACT_REQUESTS_PER_CALLER: '2', CONTACT_REQUESTS_PER_CALLER_REFILL_SECONDS: '3600' },
  messaging: {
    SENDS_PER_SENDER: '3',
    SENDS_PER_SENDER_PER_MINUTE: '1',
    QUEUE_MAX_DELIVERIES: '4',
    GROUPS_CREATED_PER_CALLER: '1',
    GROUPS_CREATED_PER_CALLER_REFILL_SECONDS: '3600',
    MEMBER_ADDS_PER_CALLER: '1',
    MEMBER_ADDS_PER_CALLER_REFILL_SECONDS: '3600',
  },
  keys: {
    UPLOADS_PER_CALLER: '4',
    UPLOADS_PER_CALLER_REFILL_SECONDS: '3600',
    IDENTITY_KEY_CHANGES_PER_DEVICE_PER_DAY: '1',
    CONSISTENCY_PROOFS_PER_CALLER: '1',
    CONSISTENCY_PROOFS_PER_CALLER_REFILL_SECONDS: '3600',
    PREKEY_CLAIMS_PER_REQUESTER: '2',
    PREKEY_CLAIMS_PER_REQUESTER_REFILL_SECONDS: '3600',
  },
};

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { ...SIZES, auth: { BCRYPT_COST: '4', ...SIZES.auth }, edge: { EDGE_TRUSTED_PROXY_HOPS: '1' } } });
});

afterAll(() => stack?.cleanup());

const forwardedFor =
  (address: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set('x-forwarded-for', address);
    return next(req);
  };
const authFrom = (address: string) => createClient(AuthService, createConnectTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1', interceptors: [forwardedFor(address)] }));

let hosts = 0;
/** A new account, registered through the edge from an address no other account used. */
async function account(prefix: string): Promise<EdgeDevice> {
  hosts++;
  const accounts = new Accounts({ auth: authFrom(`10.0.${hosts >> 8}.${hosts & 255}`), devices: edgeClient(DeviceService, stack.edgeUrl) });
  const device = await accounts.register({ username: uniqueUsername(prefix) });
  return { ...device, ...clientsOf(stack, device.tokens.accessToken) };
}

/** The outcome of a call: 'ok', or the code and message with the wait blanked out. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    async (err: unknown) => {
      const e = await connectErrorOf(Promise.reject(err as Error));
      return `${Code[e.code]}: ${e.rawMessage.replace(/retry in \d+ s/, 'retry in N s')}`;
    },
  );

describe('Register with the proof of work off (the default)', () => {
  it('hands out no challenge and needs none', async () => {
    const res = await authFrom('192.0.2.200').getRegistrationChallenge({});
    expect([res.challenge, res.difficultyBits, res.expiresAt]).toEqual(['', 0, undefined]);
    expect(await outcome(authFrom('192.0.2.200').register({ username: uniqueUsername('nopow'), password: PASSWORD, registrationId: 7 }))).toBe('ok');
  });
});

describe('Register per address', () => {
  it('counts an IPv6 /64 as one address, refuses past the burst with a retry-after, and lets other addresses in', async () => {
    const register = (address: string) =>
      outcome(authFrom(address).register({ username: uniqueUsername('reg'), password: PASSWORD, registrationId: 7, deviceName: 'Phone' }));
    expect([
      await register('2001:db8:77:1::1'),
      await register('2001:db8:77:1:aaaa::2'),
      await register('2001:db8:77:1:ffff:ffff:ffff:ffff'),
      await register('2001:db8:77:2::1'),
      await register('192.0.2.10'),
    ]).toEqual(['ok', 'ok', 'ResourceExhausted: too many accounts registered from this address; retry in N s', 'ok', 'ok']);
  });
});

describe('SendContactRequest per caller', () => {
  it('refuses the request past the burst', async () => {
    const [alice, ...others] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(account));
    const outcomes = [];
    for (const other of others) outcomes.push(await outcome(alice!.contacts.sendContactRequest({ userId: other.userId })));
    expect(outcomes).toEqual(['ok', 'ok', 'ResourceExhausted: too many contact requests; retry in N s']);
  });
});

describe('CreateGroup and AddMembers per caller', () => {
  it('refuse the call past the burst, each its own bucket', async () => {
    const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(account));
    const group = await createGroup(alice!, [bob!]);
    expect(await outcome(alice!.conversations.createGroup({ memberUserIds: [carol!.userId] }))).toBe(
      'ResourceExhausted: too many groups created; retry in N s',
    );
    expect(await outcome(alice!.conversations.addMembers({ conversationId: group.id, userIds: [carol!.userId] }))).toBe('ok');
    expect(await outcome(alice!.conversations.addMembers({ conversationId: group.id, userIds: [dave!.userId] }))).toBe(
      'ResourceExhausted: too many AddMembers calls; retry in N s',
    );
  });
});

describe('SendMessage', () => {
  it('is limited per sender, stored and ephemeral sends alike', async () => {
    const [alice, bob] = await Promise.all(['alice', 'bob'].map(account));
    const direct = await openDirect(alice!, bob!);
    const send = (ephemeral: boolean) =>
      outcome(alice!.messages.sendMessage({ conversationId: direct.id, clientMessageId: randomUUID(), ephemeral, envelopes: [opaqueEnvelope(bob!, 'hi')] }));
    await sendWhenDevicesKnown(alice!.messages, direct.id, [opaqueEnvelope(bob!, 'first')]);
    const limited = 'ResourceExhausted: too many messages sent; retry in N s';
    expect([await send(true), await send(false), await send(false), await send(true)]).toEqual(['ok', 'ok', limited, limited]);
  });

  it("refuses a send that would take the recipient device's queue past its quota, naming the device", async () => {
    const [alice, carol, bob] = await Promise.all(['alice', 'carol', 'bob'].map(account));
    const [fromAlice, fromCarol] = [await openDirect(alice!, bob!), await openDirect(carol!, bob!)];
    for (let i = 0; i < 3; i++) await sendWhenDevicesKnown(alice!.messages, fromAlice.id, [opaqueEnvelope(bob!, `a${i}`)]);
    await sendWhenDevicesKnown(carol!.messages, fromCarol.id, [opaqueEnvelope(bob!, 'c0')]);
    const err = await connectErrorOf(carol!.messages.sendMessage({ conversationId: fromCarol.id, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(bob!, 'c1')] }));
    expect([err.code, err.rawMessage]).toEqual([
      Code.ResourceExhausted,
      `the queue of device ${bob!.deviceId} of user ${bob!.userId} is full of undelivered messages; retry in 60 s`,
    ]);
  });
});

describe('KeyService', () => {
  const keysOf = (d: EdgeDevice) => edgeClient(KeyService, stack.edgeUrl, { accessToken: d.tokens.accessToken });
  /** An upload, once keys has learnt the device from auth's events (the tries spend uploads). */
  const upload = async (d: EdgeDevice, request: UploadKeysRequest) => {
    const res = await eventually(
      () => keysOf(d).uploadKeys(request).catch((err) => ConnectError.from(err)),
      (res) => !(res instanceof ConnectError && res.code === Code.FailedPrecondition),
    );
    if (res instanceof ConnectError) throw res;
    return res;
  };

  it('limits uploads per caller and identity-key changes per device', async () => {
    const alice = await account('alice');
    // Known to keys first, so no upload is spent on waiting for auth's event.
    await eventually(
      () => keysOf(alice).getPreKeyCounts({}).then(() => true, () => false),
      (known) => known,
    );
    const device = () => new SignalDevice(alice.userId, alice.deviceId, alice.registrationId);
    const changed = device();
    const outcomes = [
      await outcome(keysOf(alice).uploadKeys(device().uploadRequest({ preKeys: 1 }))),
      // A new identity key: the device's one change for the day.
      await outcome(keysOf(alice).uploadKeys(changed.uploadRequest({ preKeys: 1 }))),
      await outcome(keysOf(alice).uploadKeys(device().uploadRequest({ preKeys: 1 }))),
      // The same identity again is no change; the refused change above spent an upload, so this is the last.
      await outcome(keysOf(alice).uploadKeys(changed.uploadRequest({ preKeys: 1 }))),
      await outcome(keysOf(alice).uploadKeys(changed.uploadRequest({ preKeys: 1 }))),
    ];
    expect(outcomes).toEqual([
      'ok',
      'ok',
      'ResourceExhausted: too many identity key changes for this device; retry in N s',
      'ok',
      'ResourceExhausted: too many key uploads; retry in N s',
    ]);
  });

  it('limits GetConsistencyProof per caller', async () => {
    const alice = await account('alice');
    await upload(alice, new SignalDevice(alice.userId, alice.deviceId, alice.registrationId).uploadRequest());
    const proof = () => outcome(keysOf(alice).getConsistencyProof({ fromSize: 1n, toSize: 1n }));
    expect([await proof(), await proof()]).toEqual(['ok', 'ResourceExhausted: too many consistency proof requests; retry in N s']);
  });

  it('limits prekey claims per requester across targets', async () => {
    const targets = await Promise.all(['t1', 't2', 't3'].map(account));
    for (const t of targets) await upload(t, new SignalDevice(t.userId, t.deviceId, t.registrationId).uploadRequest({ preKeys: 2, pqPreKeys: 2 }));
    const mallory = await account('mallory');
    const outcomes = [];
    for (const t of targets) outcomes.push(await outcome(keysOf(mallory).getPreKeyBundles({ userId: t.userId, deviceId: 0 })));
    expect(outcomes).toEqual(['ok', 'ok', 'ResourceExhausted: too many key requests; retry in N s']);
  });
});
