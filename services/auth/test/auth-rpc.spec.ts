import { createHash } from 'node:crypto';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { events, newSigningKey } from '@parley/platform';
import { AuthInternalService, AuthService } from '@parley/proto';
import { PASSWORD, connectErrorOf, eventually, serviceClient, startTestStack, uniqueUsername, withToken, type TestStack } from '@parley/testing';
import { importJWK, SignJWT } from 'jose';

let stack: TestStack;
let auth: Client<typeof AuthService>;
let internal: Client<typeof AuthInternalService>;

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth'] });
  auth = serviceClient(AuthService, stack, 'auth');
  internal = serviceClient(AuthInternalService, stack, 'auth');
});

afterAll(() => stack?.cleanup());

describe('Register', () => {
  it('creates the account, signs it in, and stores only a bcrypt hash and a hashed refresh token', async () => {
    const name = uniqueUsername();
    const res = await auth.register({ username: name.toUpperCase(), password: PASSWORD, registrationId: 1234 });
    expect(res.user?.username).toBe(name);
    const [row] = await stack.query<{ password_hash: string }>('auth', 'select password_hash from app_user where id = $1', [res.user!.id]);
    expect(row!.password_hash).toMatch(/^\$2b\$12\$/);
    const tokens = await stack.query<{ token_hash: string }>('auth', 'select token_hash from refresh_token');
    const stored = tokens.map((t) => t.token_hash);
    expect(stored).not.toContain(res.tokens!.refreshToken);
    expect(stored).toContain(createHash('sha256').update(res.tokens!.refreshToken).digest('hex'));
  });

  it('refuses a taken username whatever its case, with ALREADY_EXISTS', async () => {
    const name = uniqueUsername();
    await auth.register({ username: name, password: PASSWORD, registrationId: 1234 });
    const err = await connectErrorOf(auth.register({ username: name.toUpperCase(), password: PASSWORD, registrationId: 1234 }));
    expect(err.code).toBe(Code.AlreadyExists);
    expect(err.rawMessage).toBe(`username '${name}' is taken`);
  });

  it('lets exactly one of several concurrent registrations of a name succeed', async () => {
    const name = uniqueUsername();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => auth.register({ username: name, password: PASSWORD, registrationId: 1234 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(ConnectError.from(r.reason).code).toBe(Code.AlreadyExists);
  });

  it('publishes auth.user.registered through the outbox to the run’s stream', async () => {
    const res = await auth.register({ username: uniqueUsername(), password: PASSWORD, registrationId: 1234 });
    const nc = await connect({ servers: stack.natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const subject = stack.isolation.subjects.of(events.userRegistered);
      const msg = await eventually(
        () => jsm.streams.getMessage(stack.isolation.subjects.stream, { last_by_subj: subject }).catch(() => undefined),
        (m) => m !== undefined && Buffer.from(m.data).includes(Buffer.from(res.user!.id)),
      );
      expect(msg!.subject).toBe(subject);
      await eventually(
        () => stack.query('auth', 'select id from outbox_event'),
        (rows) => rows.length === 0,
      );
    } finally {
      await nc.close();
    }
  });
});

describe('Login', () => {
  it('opens a new session with the right password', async () => {
    const name = uniqueUsername();
    const reg = await auth.register({ username: name, password: PASSWORD, registrationId: 1234 });
    const res = await auth.login({ username: name, password: PASSWORD, registrationId: 1 });
    expect(res.user?.id).toBe(reg.user?.id);
    expect(res.tokens?.refreshToken).not.toBe(reg.tokens?.refreshToken);
  });

  it('adds a new device with the password alone, and signs an existing device in only with its own secret', async () => {
    const name = uniqueUsername();
    const reg = await auth.register({ username: name, password: PASSWORD, registrationId: 1234 });
    expect(reg.deviceSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const added = await auth.login({ username: name, password: PASSWORD, registrationId: 99, deviceName: 'Laptop' });
    expect(added.device).toMatchObject({ deviceId: 2, name: 'Laptop', registrationId: 99, current: true });
    expect(added.deviceSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await stack.query<{ device_id: number; secret_hash: string }>(
      'auth',
      'select device_id, secret_hash from device where user_id = $1 order by device_id',
      [reg.user!.id],
    );
    const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(stored).toEqual([
      { device_id: 1, secret_hash: sha256(reg.deviceSecret) },
      { device_id: 2, secret_hash: sha256(added.deviceSecret) },
    ]);

    const refused = async (req: { deviceId?: number; deviceSecret?: string; registrationId?: number; password?: string }) => {
      const err = await connectErrorOf(auth.login({ username: name, password: PASSWORD, ...req }));
      return [err.code, err.rawMessage];
    };
    expect(await refused({ deviceId: 1 })).toEqual([
      Code.InvalidArgument,
      'device_secret is required to sign device 1 in again (the password alone adds a new device: leave device_id 0)',
    ]);
    const wrongSecret = [Code.Unauthenticated, 'wrong device_secret for device 1: sign in with device_id 0 to add a new device'];
    expect(await refused({ deviceId: 1, deviceSecret: added.deviceSecret })).toEqual(wrongSecret);
    expect(await refused({ deviceId: 3, deviceSecret: added.deviceSecret })).toEqual([Code.Unauthenticated, 'wrong device_secret for device 3: sign in with device_id 0 to add a new device']);
    expect(await refused({ deviceId: 1, deviceSecret: reg.deviceSecret, password: 'not the password' })).toEqual([Code.Unauthenticated, 'wrong username or password']);
    expect((await refused({}))[0]).toBe(Code.InvalidArgument);

    const again = await auth.login({ username: name, password: PASSWORD, deviceId: 1, deviceSecret: reg.deviceSecret });
    expect([again.device?.deviceId, again.deviceSecret]).toEqual([1, '']);
    await expect(auth.getMe({}, withToken(again.tokens!.accessToken))).resolves.toMatchObject({ device: { deviceId: 1 } });
  });

  it('answers a wrong password and an unknown user with the same error', async () => {
    const name = uniqueUsername();
    await auth.register({ username: name, password: PASSWORD, registrationId: 1234 });
    const wrong = await connectErrorOf(auth.login({ username: name, password: 'not the password', registrationId: 1 }));
    const unknown = await connectErrorOf(auth.login({ username: `${name}_nobody`, password: PASSWORD, registrationId: 1 }));
    expect([wrong.code, wrong.rawMessage]).toEqual([Code.Unauthenticated, 'wrong username or password']);
    expect([unknown.code, unknown.rawMessage]).toEqual([wrong.code, wrong.rawMessage]);
  });
});

describe('Refresh', () => {
  it('rotates: the new pair works and the old refresh token is refused', async () => {
    const reg = await auth.register({ username: uniqueUsername(), password: PASSWORD, registrationId: 1234 });
    const next = await auth.refresh({ refreshToken: reg.tokens!.refreshToken });
    expect(next.tokens!.refreshToken).not.toBe(reg.tokens!.refreshToken);
    await expect(auth.getMe({}, withToken(next.tokens!.accessToken))).resolves.toMatchObject({ user: { id: reg.user!.id } });
    const reuse = await connectErrorOf(auth.refresh({ refreshToken: reg.tokens!.refreshToken }));
    expect(reuse.code).toBe(Code.Unauthenticated);
    expect(reuse.rawMessage).toMatch(/already used/);
  });

  it('revokes the session when a used token comes back, so the newer tokens die too', async () => {
    const reg = await auth.register({ username: uniqueUsername(), password: PASSWORD, registrationId: 1234 });
    const next = await auth.refresh({ refreshToken: reg.tokens!.refreshToken });
    await connectErrorOf(auth.refresh({ refreshToken: reg.tokens!.refreshToken }));
    expect((await connectErrorOf(auth.refresh({ refreshToken: next.tokens!.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(auth.getMe({}, withToken(next.tokens!.accessToken)))).code).toBe(Code.Unauthenticated);
  });

  it('lets only one of two concurrent uses of a token succeed', async () => {
    const reg = await auth.register({ username: uniqueUsername(), password: PASSWORD, registrationId: 1234 });
    const results = await Promise.allSettled([1, 2].map(() => auth.refresh({ refreshToken: reg.tokens!.refreshToken })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses an unknown or missing token', async () => {
    expect((await connectErrorOf(auth.refresh({ refreshToken: 'nope' }))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(auth.refresh({ refreshToken: '' }))).code).toBe(Code.InvalidArgument);
  });
});

describe('Logout and GetMe', () => {
  it('GetMe needs a valid token from this auth service', async () => {
    expect((await connectErrorOf(auth.getMe({}))).rawMessage).toMatch(/missing access token/);
    expect((await connectErrorOf(auth.getMe({}, withToken('not.a.jwt')))).code).toBe(Code.Unauthenticated);
    const reg = await auth.register({ username: uniqueUsername(), password: PASSWORD, registrationId: 1234 });
    const foreignKey = JSON.parse(newSigningKey());
    const forged = await new SignJWT({ sid: 'x', did: 1 })
      .setProtectedHeader({ alg: 'EdDSA', kid: foreignKey.kid })
      .setIssuer('parley-auth')
      .setAudience('parley')
      .setSubject(reg.user!.id)
      .setExpirationTime('5m')
      .sign(await importJWK(foreignKey, 'EdDSA'));
    const err = await connectErrorOf(auth.getMe({}, withToken(forged)));
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'invalid access token: log in again']);
  });

  it('Logout ends the session: refresh and GetMe stop working, other sessions go on', async () => {
    const name = uniqueUsername();
    const first = await auth.register({ username: name, password: PASSWORD, registrationId: 1234 });
    const second = await auth.login({ username: name, password: PASSWORD, registrationId: 1 });
    await auth.logout({}, withToken(first.tokens!.accessToken));
    expect((await connectErrorOf(auth.getMe({}, withToken(first.tokens!.accessToken)))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(auth.refresh({ refreshToken: first.tokens!.refreshToken }))).code).toBe(Code.Unauthenticated);
    await expect(auth.getMe({}, withToken(second.tokens!.accessToken))).resolves.toMatchObject({ user: { username: name } });
  });
});

describe('GetJwks', () => {
  it('publishes the public key that signs access tokens, and no private part', async () => {
    const reg = await auth.register({ username: uniqueUsername(), password: PASSWORD, registrationId: 1234 });
    const header = JSON.parse(Buffer.from(reg.tokens!.accessToken.split('.')[0]!, 'base64url').toString());
    const { keys } = await internal.getJwks({});
    expect(keys.map((k) => k.kid)).toContain(header.kid);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(JSON.stringify(keys)).not.toMatch(/"d"/);
  });
});
