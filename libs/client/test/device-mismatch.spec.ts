import { eventually, PASSWORD, startTestStack, untilDevicesKnown, type TestStack } from '@parley/testing';
import type { ClientEvents } from '../src/events';
import { closeDevices, listen, newDevice, openDirect, signedUp, texts, untilReceived } from './support';

type Repair = Parameters<ClientEvents['devicesRepaired']>[0];

describe('the SDK recovers from DeviceMismatch by itself', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ services: ['auth', 'keys', 'messaging', 'edge'], env: { auth: { BCRYPT_COST: '4' } } });
  });
  afterEach(closeDevices);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('a peer links a new device mid-conversation (approved from the old one): the next send reaches it, later a revoked one is dropped', async () => {
    const alice = await signedUp(stack, 'alice');
    const bob = await signedUp(stack, 'bob');
    await listen(alice);
    await listen(bob);
    const repairs: Repair[] = [];
    alice.client.on('devicesRepaired', (r) => repairs.push(r));
    const conversationId = await openDirect(alice, bob.client.account!.userId);
    await alice.client.sendText(conversationId, 'one');
    await untilReceived(bob, 1);
    repairs.splice(0);

    // Bob links a laptop: the laptop redeems a code, Bob's phone approves the code the laptop shows.
    const { code } = await bob.client.createLinkCode();
    const laptop = newDevice(stack.edgeUrl);
    const pending = await laptop.client.linkDevice({ code, deviceName: 'laptop' });
    expect(pending.linked).toBe(false);
    if (pending.linked) return;
    expect(await bob.client.approveLink(code, pending.verificationCode)).toBe('laptop');
    await laptop.client.completeLink(pending.approvalSecret);
    await laptop.client.publishKeys();
    await listen(laptop);
    const laptopAddress = { userId: bob.client.account!.userId, deviceId: laptop.client.account!.deviceId };
    await untilDevicesKnown(stack, 'messaging', [laptopAddress]);

    const second = await alice.client.sendText(conversationId, 'two');
    await untilReceived(bob, 2);
    await untilReceived(laptop, 1);
    expect(texts(bob)).toEqual(['one', 'two']);
    expect(texts(laptop)).toEqual(['two']);
    expect(laptop.received[0]!.messageId).toBe(second.messageId);
    expect(second.seq).toBe(2n);
    expect(repairs).toEqual([{ conversationId, missing: [laptopAddress], extra: [], stale: [] }]);
    expect((await bob.client.devices()).map((d) => d.name).sort()).toEqual(['Primary device', 'laptop']);

    // Bob revokes the laptop: Alice's next send drops its envelope by itself.
    repairs.splice(0);
    await bob.client.revokeDevice(laptopAddress.deviceId);
    // Once messaging has applied the revocation, the laptop is no recipient any more.
    await eventually(
      () => stack.query('messaging', 'select 1 from device_projection where user_id = $1 and device_id = $2 and active', [laptopAddress.userId, laptopAddress.deviceId]),
      (rows) => rows.length === 0,
    );
    const third = await alice.client.sendText(conversationId, 'three');
    await untilReceived(bob, 3);
    expect(texts(bob)).toEqual(['one', 'two', 'three']);
    expect(third.seq).toBe(3n);
    expect(repairs).toEqual([{ conversationId, missing: [], extra: [laptopAddress], stale: [] }]);
  });

  it('signs an existing device in again with its own secret, and a new one with the password', async () => {
    const bob = await signedUp(stack, 'bob');
    const account = bob.client.account!;
    await bob.client.logout();
    expect(bob.client.loggedIn).toBe(false);
    const again = await bob.client.login({ username: bob.username, password: PASSWORD });
    expect(again.newDevice).toBe(false);
    expect(bob.client.account).toEqual(account);
    const tablet = newDevice(stack.edgeUrl);
    const added = await tablet.client.login({ username: bob.username, password: PASSWORD, deviceName: 'tablet' });
    expect(added.newDevice).toBe(true);
    expect(tablet.client.account!.deviceId).not.toBe(account.deviceId);
    expect((await bob.client.sessions()).length).toBe(2);
  });
});
