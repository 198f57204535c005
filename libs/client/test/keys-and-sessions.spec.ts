import { eventually, PASSWORD, startTestStack, type TestStack } from '@parley/testing';
import { closeDevices, listen, newDevice, signedUp } from './support';

describe('the SDK keeps keys and sessions by itself', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ services: ['auth', 'keys', 'messaging', 'edge'], env: { auth: { BCRYPT_COST: '4' }, keys: { PREKEY_LOW_WATER_MARK: '10' } } });
  });
  afterEach(closeDevices);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('tops up one-time prekeys when the server says they run low', async () => {
    const alice = await signedUp(stack, 'alice');
    const bob = await signedUp(stack, 'bob');
    await listen(bob);
    const bobId = bob.client.account!.userId;
    expect(await bob.client.keys.counts()).toMatchObject({ preKeys: 20, pqPreKeys: 20 });
    // Alice claims 15 of Bob's 20: below the low-water mark of 10, keys sends Bob a PreKeysLow notice.
    for (let i = 0; i < 15; i++) await alice.client.keys.bundles(bobId, 1);
    await eventually(
      () => bob.client.keys.counts(),
      (counts) => counts !== undefined && counts.preKeys === 25 && counts.pqPreKeys === 25,
      60_000,
    );
  });

  it('says "logged out" once when another device ends its session, instead of looping', async () => {
    const bob = await signedUp(stack, 'bob');
    const loggedOut: string[] = [];
    const states: string[] = [];
    bob.client.on('loggedOut', (reason) => loggedOut.push(reason));
    bob.client.on('connection', (state) => states.push(state));
    await listen(bob);
    const tablet = newDevice(stack.edgeUrl);
    await tablet.client.login({ username: bob.username, password: PASSWORD, deviceName: 'tablet' });
    const phoneSession = (await tablet.client.sessions()).find((s) => s.deviceId === 1)!;
    await tablet.client.revokeSession(phoneSession.id);

    await eventually(async () => loggedOut.length, (n) => n > 0, 60_000);
    await eventually(async () => states.at(-1), (state) => state === 'closed');
    expect(loggedOut).toHaveLength(1);
    expect(bob.client.loggedIn).toBe(false);
    await expect(bob.client.devices()).rejects.toMatchObject({ message: 'not logged in' });
  });
});
