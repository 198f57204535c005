import { Code } from '@connectrpc/connect';
import { MAX_DEVICE_ID, events } from '@parley/platform';
import { PASSWORD, connectErrorOf, newDeviceIdentity, withToken } from '@parley/testing';
import { DeviceTestRig, sessionIdOf } from './support/device-test-rig.js';

const MAX_DEVICES = 3;
/** The identity key the new devices state. */
const KEY = newDeviceIdentity().publicKey;
let rig: DeviceTestRig;

beforeAll(async () => {
  rig = await DeviceTestRig.start({ MAX_DEVICES_PER_ACCOUNT: String(MAX_DEVICES) });
});

afterAll(() => rig?.stop());

describe('ListDevices', () => {
  it("lists the account's devices in id order, marking the caller's own as current", async () => {
    const primary = await rig.accounts.register({ registrationId: 1111, deviceName: 'Phone' });
    const tablet = await rig.accounts.linkByApproval(primary, { deviceName: 'Tablet', registrationId: 2222 });
    const fromTablet = await rig.devices.listDevices({}, withToken(tablet.tokens.accessToken));
    expect(fromTablet.devices.map((d) => [d.deviceId, d.name, d.registrationId, d.current])).toEqual([
      [1, 'Phone', 1111, false],
      [2, 'Tablet', 2222, true],
    ]);
    const fromPhone = await rig.devices.listDevices({}, withToken(primary.tokens.accessToken));
    expect(fromPhone.devices.map((d) => d.current)).toEqual([true, false]);
  });

  it("needs a live token, and shows only the caller's account", async () => {
    expect((await connectErrorOf(rig.devices.listDevices({}))).code).toBe(Code.Unauthenticated);
    const alice = await rig.accounts.register();
    await rig.accounts.linkByApproval(alice, { deviceName: 'Tablet' });
    const bob = await rig.accounts.register();
    const bobs = await rig.devices.listDevices({}, withToken(bob.tokens.accessToken));
    expect(bobs.devices.map((d) => d.deviceId)).toEqual([1]);
    await rig.auth.logout({}, withToken(bob.tokens.accessToken));
    const ended = await connectErrorOf(rig.devices.listDevices({}, withToken(bob.tokens.accessToken)));
    expect([ended.code, ended.rawMessage]).toEqual([Code.Unauthenticated, 'session has ended: log in again']);
  });
});

describe('RenameDevice', () => {
  it('renames any device of the account', async () => {
    const primary = await rig.accounts.register({ deviceName: 'Phone' });
    await rig.accounts.linkByApproval(primary, { deviceName: 'Tablet' });
    const res = await rig.devices.renameDevice({ deviceId: 2, name: '  Kitchen iPad ' }, withToken(primary.tokens.accessToken));
    expect(res.device).toMatchObject({ deviceId: 2, name: 'Kitchen iPad', current: false });
    const { devices } = await rig.devices.listDevices({}, withToken(primary.tokens.accessToken));
    expect(devices.map((d) => d.name)).toEqual(['Phone', 'Kitchen iPad']);
  });

  it('says what is wrong with the input, and NOT_FOUND for a device the account does not have', async () => {
    const token = withToken((await rig.accounts.register()).tokens.accessToken);
    const cases = [
      [{ deviceId: 1, name: '' }, Code.InvalidArgument, 'invalid request: name: value is required [required]'],
      [{ deviceId: 1, name: 'x'.repeat(65) }, Code.InvalidArgument, 'invalid request: name: must be at most 64 characters [string.max_len]'],
      [{ deviceId: 0, name: 'Phone' }, Code.InvalidArgument, 'invalid request: device_id: must be greater than or equal to 1 and less than or equal to 127 [uint32.gte_lte]'],
      [{ deviceId: 128, name: 'Phone' }, Code.InvalidArgument, 'invalid request: device_id: must be greater than or equal to 1 and less than or equal to 127 [uint32.gte_lte]'],
      [{ deviceId: 5, name: 'Phone' }, Code.NotFound, 'this account has no device 5: ListDevices shows its devices'],
    ] as const;
    for (const [req, code, message] of cases) {
      const err = await connectErrorOf(rig.devices.renameDevice(req, token));
      expect([err.code, err.rawMessage]).toEqual([code, message]);
    }
  });

  it("needs a token, and can't reach another account's devices", async () => {
    expect((await connectErrorOf(rig.devices.renameDevice({ deviceId: 1, name: 'Mine' }))).code).toBe(Code.Unauthenticated);
    const alice = await rig.accounts.register({ deviceName: 'Phone' });
    await rig.accounts.linkByApproval(alice, { deviceName: 'Tablet' });
    const bob = await rig.accounts.register();
    const err = await connectErrorOf(rig.devices.renameDevice({ deviceId: 2, name: 'Mine' }, withToken(bob.tokens.accessToken)));
    expect(err.code).toBe(Code.NotFound);
    const { devices } = await rig.devices.listDevices({}, withToken(alice.tokens.accessToken));
    expect(devices.map((d) => d.name)).toEqual(['Phone', 'Tablet']);
  });
});

describe('RevokeDevice', () => {
  it("ends the device's tokens at once, leaves the other device working, and publishes auth.session.revoked and auth.device.revoked", async () => {
    const primary = await rig.accounts.register();
    const userId = primary.userId;
    const tablet = await rig.accounts.linkByApproval(primary, { deviceName: 'Tablet' });
    await rig.devices.revokeDevice({ deviceId: 2 }, withToken(primary.tokens.accessToken));

    const getMe = await connectErrorOf(rig.auth.getMe({}, withToken(tablet.tokens.accessToken)));
    expect(getMe.code).toBe(Code.Unauthenticated);
    const refresh = await connectErrorOf(rig.auth.refresh({ refreshToken: tablet.tokens.refreshToken }));
    expect(refresh.code).toBe(Code.Unauthenticated);
    await expect(rig.auth.getMe({}, withToken(primary.tokens.accessToken))).resolves.toMatchObject({ device: { deviceId: 1 } });
    const { devices } = await rig.devices.listDevices({}, withToken(primary.tokens.accessToken));
    expect(devices.map((d) => d.deviceId)).toEqual([1]);
    const sessions = await rig.stack.query('auth', 'select s.id from session s join device d on d.id = s.device_id where d.user_id = $1 and d.device_id = 2', [userId]);
    expect(sessions).toEqual([]);

    const revokedSessions = await rig.lastEvent(events.sessionsRevoked, (e) => e.userId === userId);
    expect(revokedSessions.sessionIds).toEqual([sessionIdOf(tablet.tokens.accessToken)]);
    const revokedDevice = await rig.lastEvent(events.deviceRevoked, (e) => e.userId === userId);
    expect(revokedDevice.deviceId).toBe(2);
  });

  it('lets a device unlink itself', async () => {
    const primary = await rig.accounts.register();
    const tablet = await rig.accounts.linkByApproval(primary, { deviceName: 'Tablet' });
    await rig.devices.revokeDevice({ deviceId: 2 }, withToken(tablet.tokens.accessToken));
    expect((await connectErrorOf(rig.auth.getMe({}, withToken(tablet.tokens.accessToken)))).code).toBe(Code.Unauthenticated);
    const { devices } = await rig.devices.listDevices({}, withToken(primary.tokens.accessToken));
    expect(devices.map((d) => d.deviceId)).toEqual([1]);
  });

  it('refuses the primary device, an unknown device and a bad id', async () => {
    const token = withToken((await rig.accounts.register()).tokens.accessToken);
    const primary = await connectErrorOf(rig.devices.revokeDevice({ deviceId: 1 }, token));
    expect([primary.code, primary.rawMessage]).toEqual([Code.FailedPrecondition, 'the primary device (1) cannot be revoked: delete the account instead']);
    expect((await connectErrorOf(rig.devices.revokeDevice({ deviceId: 2 }, token))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(rig.devices.revokeDevice({ deviceId: 0 }, token))).code).toBe(Code.InvalidArgument);
    await expect(rig.auth.getMe({}, token)).resolves.toMatchObject({ device: { deviceId: 1 } });
  });

  it("needs a token, and can't reach another account's devices", async () => {
    expect((await connectErrorOf(rig.devices.revokeDevice({ deviceId: 2 }))).code).toBe(Code.Unauthenticated);
    const alice = await rig.accounts.register();
    const tablet = await rig.accounts.linkByApproval(alice, { deviceName: 'Tablet' });
    const bob = await rig.accounts.register();
    expect((await connectErrorOf(rig.devices.revokeDevice({ deviceId: 2 }, withToken(bob.tokens.accessToken)))).code).toBe(Code.NotFound);
    await expect(rig.auth.getMe({}, withToken(tablet.tokens.accessToken))).resolves.toMatchObject({ device: { deviceId: 2 } });
  });

  it('cancels the link codes the revoked device made', async () => {
    const primary = await rig.accounts.register();
    const tablet = await rig.accounts.linkByApproval(primary, { deviceName: 'Tablet' });
    const { code } = await rig.devices.createLinkCode({}, withToken(tablet.tokens.accessToken));
    await rig.devices.revokeDevice({ deviceId: 2 }, withToken(primary.tokens.accessToken));
    const err = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 3333, identityKey: KEY, password: PASSWORD }));
    expect(err.code).toBe(Code.NotFound);
  });
});

describe('device ids and the cap', () => {
  it(`gives the next id after the highest, skips freed lower ids until 127 is taken, and stops at MAX_DEVICES_PER_ACCOUNT (${MAX_DEVICES})`, async () => {
    const primary = await rig.accounts.register();
    const token = withToken(primary.tokens.accessToken);
    const ids = async () => (await rig.devices.listDevices({}, token)).devices.map((d) => d.deviceId);
    const link = async (name: string) => (await rig.accounts.linkByApproval(primary, { deviceName: name })).deviceId;
    expect(await link('Second')).toBe(2);
    expect(await link('Third')).toBe(3);

    const full = await connectErrorOf(rig.devices.createLinkCode({}, token));
    expect([full.code, full.rawMessage]).toEqual([
      Code.FailedPrecondition,
      `this account already has ${MAX_DEVICES} devices, the most allowed: revoke one with RevokeDevice first`,
    ]);

    await rig.devices.revokeDevice({ deviceId: 2 }, token);
    expect(await link('Fourth')).toBe(4);
    await rig.devices.revokeDevice({ deviceId: 3 }, token);
    expect(await link('Fifth')).toBe(5);
    expect(await ids()).toEqual([1, 4, 5]);

    // Reaching MAX_DEVICE_ID by linking would take 126 links; move a device there directly instead.
    await rig.stack.query('auth', 'update device set device_id = $2 where user_id = $1 and device_id = 5', [primary.userId, MAX_DEVICE_ID]);
    await rig.devices.revokeDevice({ deviceId: 4 }, token);
    expect(await link('Wrapped')).toBe(2);
    expect(await ids()).toEqual([1, 2, MAX_DEVICE_ID]);
  });

  it('checks the cap again when the device is added, for codes made while there was room', async () => {
    const primary = await rig.accounts.register();
    const token = withToken(primary.tokens.accessToken);
    const early = await rig.devices.createLinkCode({}, token);
    await rig.accounts.linkByApproval(primary, { deviceName: 'Second' });
    await rig.accounts.linkByApproval(primary, { deviceName: 'Third' });
    const err = await connectErrorOf(rig.devices.linkDevice({ code: early.code, deviceName: 'Fourth', registrationId: 4444, identityKey: KEY, password: PASSWORD }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toMatch(/revoke one with RevokeDevice first/);
  });

  it('lets concurrent links on different codes neither share an id nor pass the cap', async () => {
    const primary = await rig.accounts.register();
    const token = withToken(primary.tokens.accessToken);
    const codes = await Promise.all([1, 2, 3].map(() => rig.devices.createLinkCode({}, token)));
    const results = await Promise.allSettled(
      codes.map(({ code }, i) => rig.devices.linkDevice({ code, deviceName: `Device ${i}`, registrationId: 5000 + i, identityKey: KEY, password: PASSWORD })),
    );
    const linked = results.flatMap((r) => (r.status === 'fulfilled' && r.value.outcome.case === 'linked' ? [r.value.outcome.value.device!.deviceId] : []));
    expect(linked.sort()).toEqual([2, 3]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason.code).toBe(Code.FailedPrecondition);
  });
});
