import { randomUUID } from 'node:crypto';
import type { CallOptions, Client } from '@connectrpc/connect';
import { MAX_REGISTRATION_ID } from '@parley/platform';
import { AuthService, DeviceService } from '@parley/proto';
import { Accounts, PASSWORD, nextRegistrationId, uniqueUsername, withToken } from '../src/accounts.js';
import { untilDevicesKnown, untilUsersKnown } from '../src/projections.js';
import { eventually, serviceClient, startTestStack, type TestStack } from '../src/test-stack.js';

// auth and messaging as processes: accounts are made for real, and messaging learns them from auth's events.
jest.setTimeout(120_000);

let stack: TestStack;
let accounts: Accounts;
let auth: Client<typeof AuthService>;
let devices: Client<typeof DeviceService>;

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth', 'messaging'], env: { auth: { BCRYPT_COST: '4' } } });
  auth = serviceClient(AuthService, stack, 'auth');
  devices = serviceClient(DeviceService, stack, 'auth');
  accounts = new Accounts({ auth, devices });
});

afterAll(() => stack?.cleanup());

/** Who auth says the device acting with these call options is. */
async function whoAmI(as: CallOptions) {
  const { user, device } = await auth.getMe({}, as);
  return { userId: user?.id, username: user?.username, deviceId: device?.deviceId, registrationId: device?.registrationId };
}

describe('Accounts', () => {
  it('registers a fresh account whose device acts as itself', async () => {
    const a = await accounts.register();
    const b = await accounts.register();
    expect(a.username).not.toBe(b.username);
    expect(a.registrationId).not.toBe(b.registrationId);
    expect(await whoAmI(a.as)).toEqual({ userId: a.userId, username: a.username, deviceId: 1, registrationId: a.registrationId });
    expect(await whoAmI(withToken(b.tokens.accessToken))).toMatchObject({ userId: b.userId, deviceId: 1 });
  });

  it('registers with the username, registration id and device name asked for, and the shared password', async () => {
    const username = uniqueUsername('asked');
    const a = await accounts.register({ username, registrationId: 4321, deviceName: 'Phone' });
    expect([a.username, a.registrationId]).toEqual([username, 4321]);
    expect((await devices.listDevices({}, a.as)).devices.map((d) => [d.name, d.registrationId])).toEqual([['Phone', 4321]]);
    await expect(auth.login({ username, password: PASSWORD, registrationId: 4322 })).resolves.toMatchObject({ user: { id: a.userId } });
  });

  it('logs an account in with the password on a new device, or again on a device with its own secret', async () => {
    const a = await accounts.register();
    expect(a.deviceSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const added = await accounts.logIn(a.username, { registrationId: 4323 });
    expect(await whoAmI(added.as)).toEqual({ userId: a.userId, username: a.username, deviceId: 2, registrationId: 4323 });
    const again = await accounts.logIn(a.username, { again: a });
    expect(again.tokens.accessToken).not.toBe(a.tokens.accessToken);
    expect(again.deviceSecret).toBe(a.deviceSecret);
    expect(await whoAmI(again.as)).toEqual({ userId: a.userId, username: a.username, deviceId: 1, registrationId: a.registrationId });
  });

  it('links devices to the owner’s account with the password and by approval, each signed in as itself', async () => {
    const owner = await accounts.register();
    const laptop = await accounts.linkWithPassword(owner, { deviceName: 'Laptop', registrationId: 77 });
    const tablet = await accounts.linkByApproval(laptop, { deviceName: 'Tablet' });
    expect(await whoAmI(laptop.as)).toEqual({ userId: owner.userId, username: owner.username, deviceId: 2, registrationId: 77 });
    expect(await whoAmI(tablet.as)).toEqual({ userId: owner.userId, username: owner.username, deviceId: 3, registrationId: tablet.registrationId });
    const listed = (await devices.listDevices({}, owner.as)).devices.map((d) => [d.deviceId, d.name, d.registrationId]);
    expect(listed).toEqual([
      [1, 'Primary device', owner.registrationId],
      [2, 'Laptop', 77],
      [3, 'Tablet', tablet.registrationId],
    ]);
  });
});

describe('nextRegistrationId', () => {
  it('hands out every registration id auth accepts before one comes again', () => {
    const ids = Array.from({ length: MAX_REGISTRATION_ID }, nextRegistrationId);
    expect(new Set(ids).size).toBe(MAX_REGISTRATION_ID);
    expect([Math.min(...ids), Math.max(...ids)]).toEqual([1, MAX_REGISTRATION_ID]);
  });
});

describe('waiting for a projection', () => {
  it('resolves once messaging knows the accounts and their active devices', async () => {
    const owner = await accounts.register();
    const laptop = await accounts.linkWithPassword(owner);
    await untilUsersKnown(stack, 'messaging', [owner.userId]);
    await untilDevicesKnown(stack, 'messaging', [owner, laptop]);
    expect(await stack.query('messaging', 'select device_id, active from device_projection where user_id = $1 order by device_id', [owner.userId])).toEqual([
      { device_id: 1, active: true },
      { device_id: 2, active: true },
    ]);
    expect(await stack.query('messaging', 'select 1 from user_projection where user_id = $1', [owner.userId])).toHaveLength(1);
  });

  it('fails naming what is still unknown: a revoked device, a device never linked, an account never made', async () => {
    const owner = await accounts.register();
    const laptop = await accounts.linkWithPassword(owner);
    await untilUsersKnown(stack, 'messaging', [owner.userId]);
    await untilDevicesKnown(stack, 'messaging', [owner, laptop]);
    await devices.revokeDevice({ deviceId: laptop.deviceId }, owner.as);
    await eventually(
      () => stack.query('messaging', 'select 1 from device_projection where user_id = $1 and device_id = 2 and not active', [owner.userId]),
      (rows) => rows.length === 1,
    );
    await expect(untilDevicesKnown(stack, 'messaging', [owner, laptop, { userId: owner.userId, deviceId: 9 }], 300)).rejects.toThrow(
      `last value: ${JSON.stringify([`${owner.userId}/2`, `${owner.userId}/9`])}`,
    );
    const stranger = randomUUID();
    await expect(untilUsersKnown(stack, 'messaging', [owner.userId, stranger], 300)).rejects.toThrow(`last value: ${JSON.stringify([stranger])}`);
  });
});
