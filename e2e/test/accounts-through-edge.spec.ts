import { Code } from '@connectrpc/connect';
import { linkVerificationCode } from '@parley/crypto';
import { KeyService } from '@parley/proto';
import { PASSWORD, connectErrorOf, edgeClient, eventually, metricValue, newDeviceIdentity, startTestStack, type TestStack } from '@parley/testing';
import { clientsOf, linkWithPassword, logIn, signUp, type EdgeDevice } from './support/accounts.js';
import { opaqueEnvelope, openDirect, sendWhenDevicesKnown } from './support/messages.js';
import { SignalDevice } from './support/signal-client.js';
import { deliveriesOf, queueOf } from './support/subscription.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(() => stack?.cleanup());

/** How many calls of `method` reached the messaging service: proof of who refused a call. */
async function messagingCalls(method: string): Promise<number> {
  return metricValue(await stack.metrics('messaging'), 'parley_rpc_server_handled_total', { method: `parley.messaging.v1.ConversationService/${method}` });
}

/** OpenDirectConversation only verifies the token's signature in messaging: a refusal of a revoked session is the edge's. */
async function expectEdgeRefuses(device: EdgeDevice, peer: EdgeDevice): Promise<void> {
  const before = await messagingCalls('OpenDirectConversation');
  const err = await connectErrorOf(device.conversations.openDirectConversation({ userId: peer.userId }));
  expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'session has ended: log in again']);
  expect(await messagingCalls('OpenDirectConversation')).toBe(before);
}

describe('devices', () => {
  it('links a second device, then revokes it: its access and refresh tokens stop working at the next call', async () => {
    const alice = await signUp(stack, 'alice');
    const bob = await signUp(stack, 'bob');
    const laptop = await linkWithPassword(stack, alice, 'Laptop');
    expect(laptop.deviceId).toBe(2);
    expect(laptop.userId).toBe(alice.userId);

    const { devices } = await alice.devices.listDevices({});
    expect(devices.map((d) => [d.deviceId, d.name, d.current])).toEqual([
      [1, 'Primary device', true],
      [2, 'Laptop', false],
    ]);
    // The linked device is a full member of the account, messaging included.
    await laptop.conversations.openDirectConversation({ userId: bob.userId });

    await alice.devices.revokeDevice({ deviceId: 2 });

    await expectEdgeRefuses(laptop, bob);
    expect((await connectErrorOf(laptop.auth.getMe({}))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(clientsOf(stack).auth.refresh({ refreshToken: laptop.tokens.refreshToken }))).code).toBe(Code.Unauthenticated);
    // The primary device is untouched.
    expect((await alice.auth.getMe({})).device?.deviceId).toBe(1);
    expect((await alice.devices.listDevices({})).devices.map((d) => d.deviceId)).toEqual([1]);
  });

  it('links a device by approval from an existing device, without the password', async () => {
    const alice = await signUp(stack, 'alice');
    const { code } = await alice.devices.createLinkCode({});
    const anonymous = clientsOf(stack);
    const tabletIdentity = newDeviceIdentity();
    const pending = await anonymous.devices.linkDevice({ code, deviceName: 'Tablet', registrationId: 77, identityKey: tabletIdentity.publicKey });
    expect(pending.outcome.case).toBe('approvalSecret');
    const secret = pending.outcome.value as string;
    // Both screens show the code of the tablet's identity key; the owner types what the tablet shows.
    expect(pending.verificationCode).toBe(linkVerificationCode(tabletIdentity.publicKey));

    expect((await connectErrorOf(anonymous.devices.completeLink({ approvalSecret: secret }))).code).toBe(Code.FailedPrecondition);
    expect((await alice.devices.approveLink({ code, verificationCode: pending.verificationCode })).deviceName).toBe('Tablet');
    const { linked } = await anonymous.devices.completeLink({ approvalSecret: secret });
    expect([linked?.user?.id, linked?.device?.deviceId, linked?.device?.registrationId]).toEqual([alice.userId, 2, 77]);

    const tablet = clientsOf(stack, linked!.tokens!.accessToken);
    expect((await tablet.auth.getMe({})).device?.name).toBe('Tablet');
    // The code was spent.
    const again = await connectErrorOf(
      anonymous.devices.linkDevice({ code, deviceName: 'Other', registrationId: 78, identityKey: newDeviceIdentity().publicKey, password: PASSWORD }),
    );
    expect([Code.FailedPrecondition, Code.NotFound]).toContain(again.code);
  });

  it('a shoulder-surfed link code gives the one who typed it first nothing: the owner approves their own device by its key', async () => {
    const alice = await signUp(stack, 'alice');
    const { code } = await alice.devices.createLinkCode({});
    const anonymous = clientsOf(stack);
    const attacker = await anonymous.devices.linkDevice({ code, deviceName: 'Tablet', registrationId: 66, identityKey: newDeviceIdentity().publicKey });
    const attackerSecret = attacker.outcome.value as string;
    // Alice's real tablet shows the code of its own key; that is what she types.
    const realTablet = newDeviceIdentity();
    const refused = await connectErrorOf(alice.devices.approveLink({ code, verificationCode: linkVerificationCode(realTablet.publicKey) }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/^the verification code doesn't match the device waiting on this link code/);
    expect((await connectErrorOf(anonymous.devices.completeLink({ approvalSecret: attackerSecret }))).code).toBe(Code.FailedPrecondition);
    expect((await alice.devices.listDevices({})).devices.map((d) => d.deviceId)).toEqual([1]);

    // A password link binds the stated key too: keys takes no other as the device's first.
    const laptop = await linkWithPassword(stack, alice, 'Laptop');
    const keys = edgeClient(KeyService, stack.edgeUrl, { accessToken: laptop.tokens.accessToken });
    const impostor = new SignalDevice(laptop.userId, laptop.deviceId, laptop.registrationId);
    const wrongKey = await eventually(
      () => connectErrorOf(keys.uploadKeys(impostor.uploadRequest({ preKeys: 1, pqPreKeys: 1 }))),
      (err) => err.rawMessage !== 'device not known yet; retry shortly',
    );
    expect([wrongKey.code, wrongKey.rawMessage]).toEqual([
      Code.FailedPrecondition,
      'identity_key is not the key this device stated when it linked (LinkDevice): upload that key',
    ]);
    const own = new SignalDevice(laptop.userId, laptop.deviceId, laptop.registrationId, laptop.identity);
    await expect(keys.uploadKeys(own.uploadRequest({ preKeys: 1, pqPreKeys: 1 }))).resolves.toBeDefined();
  });
});

describe('sessions', () => {
  it('a reused refresh token revokes its whole family, at once, at the edge too', async () => {
    const bob = await signUp(stack, 'bob');
    const alice = await signUp(stack, 'alice');
    const phone = await logIn(stack, alice.username);
    const anonymous = clientsOf(stack).auth;
    const { tokens: rotated } = await anonymous.refresh({ refreshToken: phone.tokens.refreshToken });
    const rotatedDevice = { ...phone, ...clientsOf(stack, rotated!.accessToken) };
    await rotatedDevice.conversations.openDirectConversation({ userId: bob.userId });

    // Someone replays the first refresh token: the family ends, the legitimate newer tokens with it.
    const reuse = await connectErrorOf(anonymous.refresh({ refreshToken: phone.tokens.refreshToken }));
    expect([reuse.code, reuse.rawMessage]).toEqual([Code.Unauthenticated, expect.stringMatching(/already used/)]);
    expect((await connectErrorOf(anonymous.refresh({ refreshToken: rotated!.refreshToken }))).code).toBe(Code.Unauthenticated);
    await expectEdgeRefuses(rotatedDevice, bob);
    // Other sessions of the account are not part of that family.
    expect((await alice.auth.getMe({})).user?.id).toBe(alice.userId);
  });

  it('a password change logs out every other session at once and keeps the one that changed it', async () => {
    const bob = await signUp(stack, 'bob');
    const alice = await signUp(stack, 'alice');
    const other = await logIn(stack, alice.username);

    const { revokedSessions } = await alice.auth.changePassword({ currentPassword: PASSWORD, newPassword: 'a brand new passphrase 7' });
    expect(revokedSessions).toBe(1);

    await expectEdgeRefuses(other, bob);
    expect((await connectErrorOf(other.auth.getMe({}))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(clientsOf(stack).auth.refresh({ refreshToken: other.tokens.refreshToken }))).code).toBe(Code.Unauthenticated);
    await alice.conversations.openDirectConversation({ userId: bob.userId });
    await clientsOf(stack).auth.login({ username: alice.username, password: 'a brand new passphrase 7', registrationId: 1 });
    expect((await connectErrorOf(clientsOf(stack).auth.login({ username: alice.username, password: PASSWORD, registrationId: 1 }))).code).toBe(
      Code.Unauthenticated,
    );
  });

  it("a password alone signs in no existing device: it adds a new one, and the old device's queue is untouched", async () => {
    const alice = await signUp(stack, 'alice');
    const bob = await signUp(stack, 'bob');
    const conversation = await openDirect(bob, alice);
    const sent = await sendWhenDevicesKnown(bob.messages, conversation.id, [opaqueEnvelope(alice, 'for the phone')]);
    const anonymous = clientsOf(stack).auth;
    const noSecret = await connectErrorOf(anonymous.login({ username: alice.username, password: PASSWORD, deviceId: 1 }));
    expect([noSecret.code, noSecret.rawMessage]).toEqual([
      Code.InvalidArgument,
      'device_secret is required to sign device 1 in again (the password alone adds a new device: leave device_id 0)',
    ]);
    const wrongSecret = await connectErrorOf(anonymous.login({ username: alice.username, password: PASSWORD, deviceId: 1, deviceSecret: 'A'.repeat(43) }));
    expect([wrongSecret.code, wrongSecret.rawMessage]).toEqual([Code.Unauthenticated, 'wrong device_secret for device 1: sign in with device_id 0 to add a new device']);

    const added = await logIn(stack, alice.username);
    expect(added.deviceId).toBe(2);
    expect(deliveriesOf(sent.messageId, await queueOf(stack.edgeUrl, added))).toEqual([]);
    // Device 1's queue still holds Bob's message, and device 1, with its own secret, signs in again to read it.
    const again = await anonymous.login({ username: alice.username, password: PASSWORD, deviceId: 1, deviceSecret: alice.deviceSecret });
    expect([again.device?.deviceId, again.deviceSecret]).toEqual([1, '']);
    const phone = { ...alice, tokens: again.tokens! };
    expect(deliveriesOf(sent.messageId, await queueOf(stack.edgeUrl, phone))).toHaveLength(1);
  });

  it('a fresh edge replica refuses sessions revoked before it started', async () => {
    const bob = await signUp(stack, 'bob');
    const alice = await signUp(stack, 'alice');
    const other = await logIn(stack, alice.username);
    await other.auth.logout({});
    await stack.services.edge.stop();
    await stack.services.edge.start();
    await stack.services.edge.waitHealthy();
    await expectEdgeRefuses(other, bob);
    await alice.conversations.openDirectConversation({ userId: bob.userId });
  });
});

describe('contacts and blocks, enforced by messaging', () => {
  it('contact request → accept; block → messaging refuses; unblock → allowed again', async () => {
    const alice = await signUp(stack, 'alice');
    const bob = await signUp(stack, 'bob');

    await alice.contacts.sendContactRequest({ userId: bob.userId });
    const { incoming } = await bob.contacts.listContactRequests({});
    expect(incoming.map((r) => r.from?.id)).toEqual([alice.userId]);
    await bob.contacts.acceptContactRequest({ userId: alice.userId });
    expect((await alice.contacts.listContacts({})).contacts.map((c) => c.user?.id)).toEqual([bob.userId]);
    expect((await bob.contacts.listContacts({})).contacts.map((c) => c.user?.id)).toEqual([alice.userId]);

    const opened = await alice.conversations.openDirectConversation({ userId: bob.userId });
    expect(opened.conversation?.members.map((m) => m.userId).sort()).toEqual([alice.userId, bob.userId].sort());

    await bob.contacts.blockUser({ userId: alice.userId });
    const refused = await eventually(
      () => connectErrorOf(alice.conversations.openDirectConversation({ userId: bob.userId })).catch(() => undefined),
      (err) => err?.code === Code.PermissionDenied,
    );
    expect(refused?.rawMessage).not.toContain(bob.username);
    // Blocking ended the contact, on both sides.
    expect((await alice.contacts.listContacts({})).contacts).toEqual([]);

    await bob.contacts.unblockUser({ userId: alice.userId });
    const reopened = await eventually(
      () => alice.conversations.openDirectConversation({ userId: bob.userId }).catch(() => undefined),
      (res) => res !== undefined,
    );
    // Still the one direct conversation of the pair.
    expect(reopened?.conversation?.id).toBe(opened.conversation?.id);
  });
});
