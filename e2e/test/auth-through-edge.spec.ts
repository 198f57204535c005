import { Code } from '@connectrpc/connect';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { AuthService } from '@parley/proto';
import { SERVICES, grpcHealthCheck } from '@parley/stack';
import { PASSWORD, connectErrorOf, edgeClient, eventually, startTestStack, uniqueUsername, type TestStack } from '@parley/testing';

let stack: TestStack;

/** A raw HTTP call, as curl would make it. */
async function post(path: string, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${stack.edgeUrl}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as { code?: string; message?: string } & Record<string, unknown> };
}


beforeAll(async () => {
  // Info logs from auth and the edge let a test follow a request id across the hop.
  stack = await startTestStack({
    env: { edge: { CORS_ALLOWED_ORIGINS: 'http://localhost:5173', LOG_LEVEL: 'info' }, auth: { LOG_LEVEL: 'info' } },
  });
});

afterAll(() => stack?.cleanup());

describe('the stack', () => {
  it.each(SERVICES.map((s) => s.name))('%s answers SERVING to a plain @grpc/grpc-js health check', async (name) => {
    await expect(grpcHealthCheck(`127.0.0.1:${stack.services[name].rpcPort}`)).resolves.toBe('SERVING');
  });

  it('names unknown health services NOT_FOUND', async () => {
    await expect(grpcHealthCheck(`127.0.0.1:${stack.services.auth.rpcPort}`, 'no.such.Service')).rejects.toMatchObject({ code: 5 });
    await expect(grpcHealthCheck(`127.0.0.1:${stack.services.auth.rpcPort}`, 'parley.auth.v1.AuthService')).resolves.toBe('SERVING');
  });
});

describe('auth through the edge, as curl does it (Connect JSON)', () => {
  it('Register, Login, Refresh and GetMe work; a refresh token used twice is refused the second time', async () => {
    const name = uniqueUsername('edge');
    const reg = await post('/parley.auth.v1.AuthService/Register', JSON.stringify({ username: name, password: PASSWORD, registrationId: 1234 }));
    expect(reg.status).toBe(200);
    const registered = reg.json() as { user: { id: string; username: string }; tokens: { accessToken: string; refreshToken: string } };
    expect(registered.user.username).toBe(name);

    const login = await post('/parley.auth.v1.AuthService/Login', JSON.stringify({ username: name, password: PASSWORD, registrationId: 1235 }));
    expect(login.status).toBe(200);
    const { tokens } = login.json() as { tokens: { accessToken: string; refreshToken: string } };

    const refresh = (refreshToken: string) => post('/parley.auth.v1.AuthService/Refresh', JSON.stringify({ refreshToken }));
    const first = await refresh(tokens.refreshToken);
    expect(first.status).toBe(200);
    const rotated = (first.json() as { tokens: { accessToken: string } }).tokens;
    const second = await refresh(tokens.refreshToken);
    expect(second.status).toBe(401);
    expect(second.json()).toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(/already used/) });

    const me = await post('/parley.auth.v1.AuthService/GetMe', '{}', {
      'content-type': 'application/json',
      authorization: `Bearer ${registered.tokens.accessToken}`,
    });
    expect(me.status).toBe(200);
    expect(me.json()).toMatchObject({ user: { id: registered.user.id, username: name } });
    // The reused token revoked the login session, so its rotated access token is dead; the registration session lives.
    const revoked = await post('/parley.auth.v1.AuthService/GetMe', '{}', {
      'content-type': 'application/json',
      authorization: `Bearer ${rotated.accessToken}`,
    });
    expect(revoked.status).toBe(401);
  });

  it('echoes the request id, and makes one when the client sends none', async () => {
    const mine = await post('/parley.auth.v1.AuthService/GetMe', '{}', { 'content-type': 'application/json', 'x-request-id': 'trace-abc-123' });
    expect(mine.headers.get('x-request-id')).toBe('trace-abc-123');
    const theirs = await post('/parley.auth.v1.AuthService/GetMe', '{}');
    expect(theirs.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('carries the request id to the service behind the edge, into both logs', async () => {
    await post('/parley.auth.v1.AuthService/Login', JSON.stringify({ username: 'nobody_here', password: PASSWORD, registrationId: 1 }), {
      'content-type': 'application/json',
      'x-request-id': 'trace-across-hops',
    });
    const logged = (name: 'auth' | 'edge') =>
      stack.services[name].output.map((line) => JSON.parse(line) as { requestId?: string; code?: string }).filter((l) => l.requestId === 'trace-across-hops');
    const [auth, edge] = await eventually(
      async () => [logged('auth'), logged('edge')],
      (both) => both.every((lines) => lines.length > 0),
    );
    expect(auth![0]).toMatchObject({ code: 'Unauthenticated' });
    expect(edge![0]).toMatchObject({ code: 'Unauthenticated' });
  });
});

describe('bad input gets a clear Connect error, never a 500', () => {
  const register = (body: string | Uint8Array, headers?: Record<string, string>) => post('/parley.auth.v1.AuthService/Register', body, headers);

  it.each([
    ['an empty username', { username: '', password: PASSWORD }, 'invalid request: username: value is required [required]'],
    ['a huge username', { username: 'x'.repeat(10_000), password: PASSWORD }, 'invalid request: username: must be at most 32 characters [string.max_len]'],
    ['a NUL in the username', { username: 'ali\u0000ce', password: PASSWORD }, expect.stringMatching(/^invalid request: username: .*\[string\.pattern\]$/)],
    ['no registration id', { username: 'weakling', password: PASSWORD, registrationId: 0 }, expect.stringMatching(/^invalid request: registration_id: .*\[uint32\.gte_lte\]$/)],
    ['a weak password', { username: 'weakling', password: 'abc' }, 'password must be at least 10 characters'],
    ['a repetitive password', { username: 'weakling', password: 'aaaaaaaaaaaa' }, 'password is too repetitive: use at least 4 different characters'],
  ])('%s: 400 invalid_argument', async (_case, body, message) => {
    const res = await register(JSON.stringify({ registrationId: 1, ...body }));
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_argument', message });
  });

  it('a NUL in a username at Login: 400 invalid_argument, not a database error', async () => {
    const res = await post('/parley.auth.v1.AuthService/Login', JSON.stringify({ username: 'ali\u0000ce', password: PASSWORD }));
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('username') });
  });

  it('malformed binary protobuf: 400 invalid_argument, not internal', async () => {
    const res = await register(new Uint8Array([0x0a, 0xff, 0xff]), { 'content-type': 'application/proto' });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('parse binary') });
  });

  it('Subscribe as a unary JSON call: 415 naming application/connect+json', async () => {
    const res = await post('/parley.messaging.v1.DeliveryService/Subscribe', '{}');
    expect(res.status).toBe(415);
    expect(res.json()).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('application/connect+json') });
  });

  it.each([
    ['the compressed flag without an encoding', encodeEnvelope(1, new Uint8Array())],
    ['a truncated envelope', new Uint8Array([0, 0, 0, 0, 9, 1])],
    ['a malformed message', encodeEnvelope(0, new Uint8Array([0xff, 0xff]))],
  ])('Subscribe with %s: invalid_argument in the end-stream message', async (_case, body) => {
    const res = await fetch(`${stack.edgeUrl}/parley.messaging.v1.DeliveryService/Subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+proto' },
      body,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([res.status, bytes[0]]).toEqual([200, 0b10]);
    expect(JSON.parse(bytes.subarray(5).toString('utf8'))).toMatchObject({ error: { code: 'invalid_argument' } });
  });

  it('malformed JSON: 400 invalid_argument naming the request type', async () => {
    const res = await register('{"username": "x",');
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('RegisterRequest') });
  });

  it('a field of the wrong type: 400 invalid_argument', async () => {
    expect((await register(JSON.stringify({ username: 42, password: PASSWORD }))).status).toBe(400);
  });

  it('a body over the size limit: 413 resource_exhausted', async () => {
    const res = await register(JSON.stringify({ username: 'big', password: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ code: 'resource_exhausted' });
  });

  it('a wrong content type: 415 with a Connect error that names the accepted types', async () => {
    const res = await register('username=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(res.json()).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('application/json') });
  });

  it('an unknown RPC, or an internal-only service: 404 unimplemented naming what is served', async () => {
    const internal = ['/parley.auth.v1.AuthInternalService/GetJwks', '/parley.auth.v1.AuthInternalService/IssuePasswordResetToken'];
    for (const path of ['/parley.auth.v1.AuthService/DeleteEverything', ...internal, '/nope']) {
      const res = await post(path, '{}');
      expect(res.status).toBe(404);
      expect(res.json()).toMatchObject({ code: 'unimplemented', message: expect.stringContaining('parley.auth.v1.AuthService') });
    }
  });

  it('a malformed Authorization header or a garbage token: 401 unauthenticated', async () => {
    for (const authorization of ['Basic abc', 'Bearer not-a-token']) {
      const res = await post('/parley.auth.v1.AuthService/GetMe', '{}', { 'content-type': 'application/json', authorization });
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthenticated' });
    }
  });
});

describe('other protocols and browsers', () => {
  it.each(['connect-binary', 'grpc-web'] as const)('serves %s with a real Connect client', async (protocol) => {
    const client = edgeClient(AuthService, stack.edgeUrl, { protocol });
    const name = uniqueUsername('edge');
    const reg = await client.register({ username: name, password: PASSWORD, registrationId: 1234 });
    const me = await edgeClient(AuthService, stack.edgeUrl, { protocol, accessToken: reg.tokens!.accessToken }).getMe({});
    expect(me.user?.username).toBe(name);
    const err = await connectErrorOf(client.register({ username: name, password: PASSWORD, registrationId: 1234 }));
    expect(err.code).toBe(Code.AlreadyExists);
  });

  it('answers a CORS preflight from an allowed origin, and refuses other origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.edgeUrl}/parley.auth.v1.AuthService/Login`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const ok = await preflight('http://localhost:5173');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const bad = await preflight('https://evil.example');
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('events', () => {
  it('a registration reaches messaging’s user projection through the outbox and JetStream', async () => {
    const name = uniqueUsername('edge');
    const reg = await edgeClient(AuthService, stack.edgeUrl).register({ username: name, password: PASSWORD, registrationId: 1234 });
    const rows = await eventually(
      () => stack.query<{ username: string }>('messaging', 'select username from user_projection where user_id = $1', [reg.user!.id]),
      (r) => r.length === 1,
    );
    expect(rows[0]!.username).toBe(name);
  });
});
