import { randomBytes } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { events } from '@parley/platform';
import { linkVerificationCode } from '@parley/crypto';
import { PASSWORD, connectErrorOf, newDeviceIdentity, withToken } from '@parley/testing';
import { DeviceTestRig, sha256 } from './support/device-test-rig.js';

/** The identity key the new devices state, and its verification code. */
const KEY = newDeviceIdentity().publicKey;
const CODE = linkVerificationCode(KEY);
let rig: DeviceTestRig;

beforeAll(async () => {
  rig = await DeviceTestRig.start();
});

afterAll(() => rig?.stop());

async function newCode(accessToken: string) {
  return (await rig.devices.createLinkCode({}, withToken(accessToken))).code;
}

describe('CreateLinkCode', () => {
  it('makes a 128-bit base64url code, stored only as its SHA-256, valid for LINK_CODE_TTL_SECONDS (600)', async () => {
    const primary = await rig.accounts.register();
    const { code, expiresAt } = await rig.devices.createLinkCode({}, withToken(primary.tokens.accessToken));
    expect(code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const rows = await rig.stack.query<{ code_hash: string; ttl: number; created_by_device_id: number }>(
      'auth',
      'select code_hash, extract(epoch from expires_at - created_at)::int as ttl, created_by_device_id from link_code where user_id = $1',
      [primary.userId],
    );
    expect(rows).toEqual([{ code_hash: sha256(code), ttl: 600, created_by_device_id: 1 }]);
    const [stored] = await rig.stack.query<{ expires_at: Date }>('auth', 'select expires_at from link_code where code_hash = $1', [sha256(code)]);
    expect(Number(expiresAt!.seconds)).toBe(Math.floor(stored!.expires_at.getTime() / 1000));
  });

  it("drops the account's codes that died more than a day ago, and only those", async () => {
    const primary = await rig.accounts.register();
    const old = await newCode(primary.tokens.accessToken);
    const recent = await newCode(primary.tokens.accessToken);
    await rig.stack.query('auth', "update link_code set expires_at = now() - interval '25 hours' where code_hash = $1", [sha256(old)]);
    await rig.stack.query('auth', "update link_code set expires_at = now() - interval '23 hours' where code_hash = $1", [sha256(recent)]);
    const current = await newCode(primary.tokens.accessToken);
    const rows = await rig.stack.query<{ code_hash: string }>('auth', 'select code_hash from link_code where user_id = $1', [primary.userId]);
    expect(rows.map((r) => r.code_hash).sort()).toEqual([sha256(recent), sha256(current)].sort());
    const late = await connectErrorOf(rig.devices.linkDevice({ code: recent, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: PASSWORD }));
    expect(late.rawMessage).toBe('link code has expired: create a new one on a linked device');
  });

  it('needs a live token', async () => {
    expect((await connectErrorOf(rig.devices.createLinkCode({}))).code).toBe(Code.Unauthenticated);
    const primary = await rig.accounts.register();
    await rig.auth.logout({}, withToken(primary.tokens.accessToken));
    expect((await connectErrorOf(rig.devices.createLinkCode({}, withToken(primary.tokens.accessToken)))).code).toBe(Code.Unauthenticated);
  });
});

describe('LinkDevice with the password', () => {
  it('links the device at once: a new session, auth.device.added with its registration id, and both devices listed', async () => {
    const primary = await rig.accounts.register({ registrationId: 1111, deviceName: 'Phone' });
    const code = await newCode(primary.tokens.accessToken);
    const res = await rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: PASSWORD });
    expect(res.outcome.case).toBe('linked');
    const linked = res.outcome.case === 'linked' ? res.outcome.value : undefined;
    expect(linked?.user?.id).toBe(primary.userId);
    expect(linked?.device).toMatchObject({ deviceId: 2, name: 'Laptop', registrationId: 4321, current: true });

    const me = await rig.auth.getMe({}, withToken(linked!.tokens!.accessToken));
    expect([me.user?.id, me.device?.deviceId]).toEqual([primary.userId, 2]);
    await expect(rig.auth.refresh({ refreshToken: linked!.tokens!.refreshToken })).resolves.toBeDefined();
    const { devices } = await rig.devices.listDevices({}, withToken(primary.tokens.accessToken));
    expect(devices.map((d) => [d.deviceId, d.name])).toEqual([
      [1, 'Phone'],
      [2, 'Laptop'],
    ]);
    const added = await rig.lastEvent(events.deviceAdded, (e) => e.userId === primary.userId && e.deviceId === 2);
    expect(added.registrationId).toBe(4321);
  });

  it('refuses a wrong password without spending the code, and the code works once', async () => {
    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    const wrong = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: 'not the password' }));
    expect(wrong.code).toBe(Code.Unauthenticated);
    expect(wrong.rawMessage).toMatch(/^wrong password/);
    await rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: PASSWORD });
    const again = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Other', registrationId: 4321, identityKey: KEY, password: PASSWORD }));
    expect([again.code, again.rawMessage]).toEqual([Code.FailedPrecondition, 'link code was already used: create a new one on a linked device']);
  });

  it('links exactly one device when the same code and password arrive concurrently', async () => {
    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((i) => rig.devices.linkDevice({ code, deviceName: `Racer ${i}`, registrationId: 100 + i, identityKey: KEY, password: PASSWORD })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(ConnectError.from(r.reason).code).toBe(Code.FailedPrecondition);
    const rows = await rig.stack.query('auth', 'select device_id from device where user_id = $1', [primary.userId]);
    expect(rows).toHaveLength(2);
  });

  it('limits password attempts per account, so a code is no way to guess the password', async () => {
    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    for (let i = 0; i < 5; i++) {
      const err = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: `guess number ${i}` }));
      expect(err.code).toBe(Code.Unauthenticated);
    }
    const limited = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: PASSWORD }));
    expect(limited.code).toBe(Code.ResourceExhausted);
    expect(limited.rawMessage).toMatch(/^too many passwords tried to link a device to this account .*; retry in \d+ s$/);
    const other = await rig.accounts.register();
    const otherCode = await newCode(other.tokens.accessToken);
    await expect(rig.devices.linkDevice({ code: otherCode, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: PASSWORD })).resolves.toBeDefined();
  });

  it('says what is wrong with the code, the name or the registration id', async () => {
    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    const unknown = randomBytes(16).toString('base64url');
    const cases = [
      [{ code: '' }, Code.InvalidArgument, 'invalid request: code: value is required [required]'],
      [{ code: 'abc' }, Code.InvalidArgument, 'code is malformed: copy it again exactly as it was given'],
      [{ code: unknown }, Code.NotFound, 'unknown link code: create a new one on a linked device'],
      [{ code, deviceName: '' }, Code.InvalidArgument, 'invalid request: device_name: value is required [required]'],
      [{ code, registrationId: 0 }, Code.InvalidArgument, 'invalid request: registration_id: must be greater than or equal to 1 and less than or equal to 16380 [uint32.gte_lte]'],
      [{ code, registrationId: 16381 }, Code.InvalidArgument, 'invalid request: registration_id: must be greater than or equal to 1 and less than or equal to 16380 [uint32.gte_lte]'],
    ] as const;
    for (const [req, errCode, message] of cases) {
      const err = await connectErrorOf(rig.devices.linkDevice({ deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: PASSWORD, ...req }));
      expect([err.code, err.rawMessage]).toEqual([errCode, message]);
    }
  });

  it('refuses an expired code, with or without the password', async () => {
    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    await rig.stack.query('auth', "update link_code set expires_at = now() - interval '1 second' where code_hash = $1", [sha256(code)]);
    for (const pw of [PASSWORD, '']) {
      const err = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: pw }));
      expect([err.code, err.rawMessage]).toEqual([Code.FailedPrecondition, 'link code has expired: create a new one on a linked device']);
    }
  });

  it("links to the code's account only: another account's password does not open it", async () => {
    const alicesPassword = 'alice has another one';
    const alice = await rig.auth.register({ username: `alice_${process.pid}`, password: alicesPassword, registrationId: 1111 });
    const bob = await rig.accounts.register();
    const code = await newCode(bob.tokens.accessToken);
    const withAlicesPassword = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: alicesPassword }));
    expect(withAlicesPassword.code).toBe(Code.Unauthenticated);
    const res = await rig.devices.linkDevice({ code, deviceName: 'Laptop', registrationId: 4321, identityKey: KEY, password: PASSWORD });
    expect(res.outcome.case === 'linked' && res.outcome.value.user?.id).toBe(bob.userId);
    const alices = await rig.devices.listDevices({}, withToken(alice.tokens!.accessToken));
    expect(alices.devices.map((d) => d.deviceId)).toEqual([1]);
  });
});

describe('Linking with approval', () => {
  it('waits for a linked device to approve, then links on CompleteLink, once', async () => {
    const primary = await rig.accounts.register();
    const token = withToken(primary.tokens.accessToken);
    const code = await newCode(primary.tokens.accessToken);
    const request = await rig.devices.linkDevice({ code, deviceName: 'Desktop', registrationId: 777, identityKey: KEY });
    expect(request.outcome.case).toBe('approvalSecret');
    const approvalSecret = request.outcome.case === 'approvalSecret' ? request.outcome.value : '';
    expect(approvalSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = await rig.stack.query<{ approval_secret_hash: string }>('auth', 'select approval_secret_hash from link_code where code_hash = $1', [sha256(code)]);
    expect(row!.approval_secret_hash).toBe(sha256(approvalSecret));

    const early = await connectErrorOf(rig.devices.completeLink({ approvalSecret }));
    expect(early.code).toBe(Code.FailedPrecondition);
    expect(early.rawMessage).toMatch(/^waiting for approval/);
    for (const pw of ['', PASSWORD]) {
      const second = await connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Intruder', registrationId: 666, identityKey: KEY, password: pw }));
      expect([second.code, second.rawMessage]).toEqual([Code.FailedPrecondition, 'link code already has a pending request: create a new one on a linked device']);
    }

    await expect(rig.devices.approveLink({ code, verificationCode: CODE }, token)).resolves.toMatchObject({ deviceName: 'Desktop' });
    const { linked } = await rig.devices.completeLink({ approvalSecret });
    expect(linked?.device).toMatchObject({ deviceId: 2, name: 'Desktop', registrationId: 777, current: true });
    const me = await rig.auth.getMe({}, withToken(linked!.tokens!.accessToken));
    expect([me.user?.id, me.device?.deviceId]).toEqual([primary.userId, 2]);
    const added = await rig.lastEvent(events.deviceAdded, (e) => e.userId === primary.userId && e.deviceId === 2);
    expect(added.registrationId).toBe(777);

    const replay = await connectErrorOf(rig.devices.completeLink({ approvalSecret }));
    expect([replay.code, replay.rawMessage]).toEqual([Code.FailedPrecondition, 'link code was already used: create a new one on a linked device']);
    expect((await connectErrorOf(rig.devices.approveLink({ code, verificationCode: CODE }, token))).code).toBe(Code.FailedPrecondition);
  });

  it('lets any live device of the account approve', async () => {
    const primary = await rig.accounts.register();
    const tablet = await rig.accounts.linkByApproval(primary, { deviceName: 'Tablet' });
    const code = await newCode(primary.tokens.accessToken);
    const request = await rig.devices.linkDevice({ code, deviceName: 'Desktop', registrationId: 777, identityKey: KEY });
    await expect(rig.devices.approveLink({ code, verificationCode: CODE }, withToken(tablet.tokens.accessToken))).resolves.toMatchObject({ deviceName: 'Desktop' });
    const approvalSecret = request.outcome.case === 'approvalSecret' ? request.outcome.value : '';
    await expect(rig.devices.completeLink({ approvalSecret })).resolves.toMatchObject({ linked: { device: { deviceId: 3 } } });
  });

  it('ApproveLink needs a pending request, a token, and a code of the caller’s account', async () => {
    const alice = await rig.accounts.register();
    const bob = await rig.accounts.register();
    const code = await newCode(alice.tokens.accessToken);
    const none = await connectErrorOf(rig.devices.approveLink({ code, verificationCode: CODE }, withToken(alice.tokens.accessToken)));
    expect([none.code, none.rawMessage]).toEqual([Code.FailedPrecondition, 'no device has asked to link with this code yet: enter it on the new device first']);

    const request = await rig.devices.linkDevice({ code, deviceName: 'Desktop', registrationId: 777, identityKey: KEY });
    expect((await connectErrorOf(rig.devices.approveLink({ code, verificationCode: CODE }))).code).toBe(Code.Unauthenticated);
    const foreign = await connectErrorOf(rig.devices.approveLink({ code, verificationCode: CODE }, withToken(bob.tokens.accessToken)));
    expect([foreign.code, foreign.rawMessage]).toEqual([Code.NotFound, 'unknown link code: create a new one on a linked device']);
    const approvalSecret = request.outcome.case === 'approvalSecret' ? request.outcome.value : '';
    expect((await connectErrorOf(rig.devices.completeLink({ approvalSecret }))).rawMessage).toMatch(/^waiting for approval/);
    expect((await connectErrorOf(rig.devices.approveLink({ code: '' }, withToken(alice.tokens.accessToken)))).code).toBe(Code.InvalidArgument);
  });

  it('approves only the device whose verification code the owner typed; another voids the code', async () => {
    const primary = await rig.accounts.register();
    const token = withToken(primary.tokens.accessToken);
    const code = await newCode(primary.tokens.accessToken);
    // Someone who saw the code redeems it first, with their own key.
    const intruder = newDeviceIdentity().publicKey;
    const request = await rig.devices.linkDevice({ code, deviceName: 'My laptop', registrationId: 666, identityKey: intruder });
    expect(request.verificationCode).toBe(linkVerificationCode(intruder));
    const approvalSecret = request.outcome.case === 'approvalSecret' ? request.outcome.value : '';

    // The owner types the code their own new device shows.
    const refused = await connectErrorOf(rig.devices.approveLink({ code, verificationCode: CODE }, token));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.FailedPrecondition,
      "the verification code doesn't match the device waiting on this link code, so another device may have used it: " +
        'nothing was approved and the code is void; create a new one and check the code on the new device',
    ]);
    // Void for good: neither the right code nor the intruder's secret gets anywhere now.
    const late = await connectErrorOf(rig.devices.approveLink({ code, verificationCode: linkVerificationCode(intruder) }, token));
    expect([late.code, late.rawMessage]).toEqual([Code.FailedPrecondition, 'link code has expired: create a new one on a linked device']);
    expect((await connectErrorOf(rig.devices.completeLink({ approvalSecret }))).code).toBe(Code.FailedPrecondition);
    expect((await rig.devices.listDevices({}, token)).devices.map((d) => d.deviceId)).toEqual([1]);
  });

  it('links the stated identity key and announces it in auth.device.added', async () => {
    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    const request = await rig.devices.linkDevice({ code, deviceName: 'Desktop', registrationId: 778, identityKey: KEY });
    expect(request.verificationCode).toBe(CODE);
    expect(CODE).toMatch(/^\d{8}$/);
    // Typed with spaces, as people read digits off a screen.
    await rig.devices.approveLink({ code, verificationCode: `${CODE.slice(0, 4)} ${CODE.slice(4)}` }, withToken(primary.tokens.accessToken));
    const approvalSecret = request.outcome.case === 'approvalSecret' ? request.outcome.value : '';
    const { linked } = await rig.devices.completeLink({ approvalSecret });
    const added = await rig.lastEvent(events.deviceAdded, (e) => e.userId === primary.userId && e.deviceId === linked!.device!.deviceId);
    expect(Buffer.from(added.identityKey)).toEqual(Buffer.from(KEY));
  });

  it('needs the identity key and the verification code, well formed', async () => {
    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    const link = (identityKey: Uint8Array) => connectErrorOf(rig.devices.linkDevice({ code, deviceName: 'Desktop', registrationId: 779, identityKey }));
    expect((await link(new Uint8Array())).rawMessage).toBe("identity_key is required: the new device's identity public key");
    const wrongType = Uint8Array.from(KEY);
    wrongType[0] = 0x08;
    expect((await link(wrongType)).code).toBe(Code.InvalidArgument);
    expect((await link(KEY.slice(1))).code).toBe(Code.InvalidArgument);
    await rig.devices.linkDevice({ code, deviceName: 'Desktop', registrationId: 779, identityKey: KEY });
    const approve = (verificationCode: string) => connectErrorOf(rig.devices.approveLink({ code, verificationCode }, withToken(primary.tokens.accessToken)));
    expect((await approve('')).rawMessage).toBe('verification_code is required: type the code the new device shows');
    expect((await approve('1234567')).rawMessage).toBe('verification_code must be the 8 digits the new device shows');
    // A malformed code is a typo, not a mismatch: the link code stays open.
    await expect(rig.devices.approveLink({ code, verificationCode: CODE }, withToken(primary.tokens.accessToken))).resolves.toMatchObject({ deviceName: 'Desktop' });
  });

  it('CompleteLink refuses a missing, malformed or unknown secret, and an expired code', async () => {
    expect((await connectErrorOf(rig.devices.completeLink({ approvalSecret: '' }))).code).toBe(Code.InvalidArgument);
    expect((await connectErrorOf(rig.devices.completeLink({ approvalSecret: 'short' }))).code).toBe(Code.InvalidArgument);
    const unknown = await connectErrorOf(rig.devices.completeLink({ approvalSecret: randomBytes(32).toString('base64url') }));
    expect([unknown.code, unknown.rawMessage]).toEqual([Code.NotFound, 'unknown approval secret: ask to link again with LinkDevice']);

    const primary = await rig.accounts.register();
    const code = await newCode(primary.tokens.accessToken);
    const request = await rig.devices.linkDevice({ code, deviceName: 'Desktop', registrationId: 777, identityKey: KEY });
    await rig.devices.approveLink({ code, verificationCode: CODE }, withToken(primary.tokens.accessToken));
    await rig.stack.query('auth', "update link_code set expires_at = now() - interval '1 second' where code_hash = $1", [sha256(code)]);
    const approvalSecret = request.outcome.case === 'approvalSecret' ? request.outcome.value : '';
    const expired = await connectErrorOf(rig.devices.completeLink({ approvalSecret }));
    expect([expired.code, expired.rawMessage]).toEqual([Code.FailedPrecondition, 'link code has expired: create a new one on a linked device']);
  });
});
