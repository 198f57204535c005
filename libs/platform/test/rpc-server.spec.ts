import { Writable } from 'node:stream';
import { Code, ConnectError, createClient, type Client, type HandlerContext } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { AuthInternalService, GetJwksResponseSchema, Health } from '@parley/proto';
import { freePort, grpcHealthCheck } from '@parley/stack';
import { TEST_PG_URL, metricValue, connectErrorOf } from '@parley/testing';
import { pino } from 'pino';
import { requireCaller, type TokenVerifier } from '../src/auth/access-token.js';
import { SqlPool } from '../src/db/sql-pool.js';
import { createMetrics } from '../src/observability/metrics.js';
import { rpcError } from '../src/rpc/errors.js';
import { HealthState, ServingStatus, healthRoutes } from '../src/rpc/health.js';
import { internalTransport } from '../src/rpc/client.js';
import { serverInterceptors } from '../src/rpc/interceptors.js';
import { startHttpServer, startRpcServer, type RunningServer } from '../src/rpc/server.js';

const AUTH_INTERNAL = AuthInternalService.typeName;
const GET_JWKS = `${AUTH_INTERNAL}/GetJwks`;

type GetJwks = (ctx: HandlerContext) => Promise<MessageInitShape<typeof GetJwksResponseSchema>>;

interface Harness {
  server: RunningServer;
  state: HealthState;
  metrics: ReturnType<typeof createMetrics>;
  logs: Array<Record<string, unknown>>;
  address: string;
  client: Client<typeof AuthInternalService>;
  /** What GetJwks does; each test sets it. */
  getJwks: GetJwks;
}

const running: RunningServer[] = [];

/** For servers whose tests send no token. */
const refuseEveryToken: TokenVerifier = {
  async verify() {
    throw rpcError.unauthenticated('invalid access token: log in again');
  },
};

type Protocol = 'grpc' | 'internal';

/** Internal servers answer gRPC over HTTP/2 (probes, plain gRPC peers) and Connect over HTTP/1.1 (the services' own clients). */
const PROTOCOLS: [string, Protocol][] = [
  ['gRPC over HTTP/2', 'grpc'],
  ['Connect over HTTP/1.1, the internal transport', 'internal'],
];

async function start(opts: { verifier?: TokenVerifier; protocol?: Protocol } = {}): Promise<Harness> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const metrics = createMetrics('rpc-test');
  const state = new HealthState([AUTH_INTERNAL]);
  const h = { logs, metrics, state, getJwks: async () => ({ keys: [] }) } as unknown as Harness;
  h.server = await startRpcServer({
    port: 0,
    host: '127.0.0.1',
    routes: [healthRoutes(state), (router) => router.service(AuthInternalService, { getJwks: (_req, ctx) => h.getJwks(ctx) })],
    // The chain runService builds, ending in token verification.
    interceptors: serverInterceptors(log, metrics, opts.verifier ?? refuseEveryToken),
  });
  running.push(h.server);
  h.address = `127.0.0.1:${h.server.port}`;
  h.client = newClient(h.server.port, opts.protocol);
  return h;
}

function newClient(port: number, protocol: Protocol = 'grpc'): Client<typeof AuthInternalService> {
  const baseUrl = `http://127.0.0.1:${port}`;
  return createClient(AuthInternalService, protocol === 'grpc' ? createGrpcTransport({ baseUrl }) : internalTransport(baseUrl, { onBehalfOfCaller: false }));
}

/** A promise the test resolves when it chooses: a handler that runs until the test lets it finish. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  // Closing twice is harmless; tests that close their own server already did.
  await Promise.all(running.map((s) => s.close(0)));
});

describe('gRPC health', () => {
  it('answers a plain grpc-js client with the state, per service', async () => {
    const h = await start();
    // A process is not ready until it says so.
    await expect(grpcHealthCheck(h.address, '')).resolves.toBe('NOT_SERVING');

    h.state.set(ServingStatus.SERVING);
    await expect(grpcHealthCheck(h.address, '')).resolves.toBe('SERVING');
    await expect(grpcHealthCheck(h.address, AUTH_INTERNAL)).resolves.toBe('SERVING');
    await expect(grpcHealthCheck(h.address, 'parley.nope.v1.Nope')).rejects.toMatchObject({ code: 5 /* NOT_FOUND */ });

    h.state.shutdown();
    await expect(grpcHealthCheck(h.address, AUTH_INTERNAL)).resolves.toBe('NOT_SERVING');
    // Shutdown is for good: a late dependency check must not flip it back.
    h.state.set(ServingStatus.SERVING);
    await expect(grpcHealthCheck(h.address, '')).resolves.toBe('NOT_SERVING');
  });

  it('streams changes to Watch and ends the stream at shutdown', async () => {
    const h = await start();
    const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${h.address}` }));
    const seen: ServingStatus[] = [];
    const stream = health.watch({ service: '' });
    const reader = (async () => {
      for await (const res of stream) {
        seen.push(res.status);
        if (res.status === ServingStatus.NOT_SERVING && seen.length === 1) h.state.set(ServingStatus.SERVING);
        else if (res.status === ServingStatus.SERVING) h.state.shutdown();
      }
    })();
    await reader; // returns only if the server ends the stream
    expect(seen).toEqual([ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);

    const unknown: ServingStatus[] = [];
    for await (const res of health.watch({ service: 'parley.nope.v1.Nope' })) unknown.push(res.status);
    expect(unknown).toEqual([ServingStatus.SERVICE_UNKNOWN]);
  });
});

describe.each(PROTOCOLS)('server interceptors, %s', (_name, protocol) => {
  let h: Harness;
  beforeAll(async () => {
    h = await start({ protocol });
  });

  it('hides an unexpected error from the caller but logs it with the request id', async () => {
    h.getJwks = async () => {
      throw new Error('secret db password in /etc/x');
    };
    const err = await connectErrorOf(h.client.getJwks({}));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).not.toMatch(/secret|etc/);
    expect(err.rawMessage).toMatch(/x-request-id/);
    const requestId = err.metadata.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    const logged = h.logs.find((l) => l.msg === 'internal error');
    expect((logged?.err as { message?: string } | undefined)?.message).toBe('secret db password in /etc/x');
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'rpc failed', code: 'Internal', rpc: expect.stringContaining('GetJwks') }));
  });

  it.each([
    ['a number out of range', 'select $1::bigint', '99999999999999999999', 'a number in the request is out of range (SQLSTATE 22003)'],
    ['text that is not a uuid', 'select $1::uuid', 'nope', 'a value in the request is malformed (SQLSTATE 22P02)'],
    ['a NUL in text', 'select $1::text', 'ali\u0000ce', 'text in the request holds a NUL or a byte that is not UTF-8 (SQLSTATE 22021)'],
  ])('answers %s that PostgreSQL refuses INVALID_ARGUMENT, logged at info', async (_case, statement, value, message) => {
    const pool = new SqlPool(TEST_PG_URL, 1);
    const logsBefore = h.logs.length;
    h.getJwks = async () => {
      await pool.query(statement, [value]);
      return { keys: [] };
    };
    try {
      const err = await connectErrorOf(h.client.getJwks({}));
      expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
    } finally {
      await pool.close();
    }
    const logged = h.logs.slice(logsBefore);
    expect(logged.filter((l) => l.level === 50)).toEqual([]);
    expect(logged).toContainEqual(expect.objectContaining({ level: 30, msg: 'rpc failed', code: 'InvalidArgument' }));
  });

  it.each([
    ['a refused connection', async () => `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, 'select 1'],
    ['a session the server terminated', async () => TEST_PG_URL, 'select pg_terminate_backend(pg_backend_pid())'],
  ])('answers a database that is unavailable (%s) UNAVAILABLE, logged at warn', async (_case, url, statement) => {
    const pool = new SqlPool(await url(), 1);
    const logsBefore = h.logs.length;
    h.getJwks = async () => {
      await pool.query(statement);
      return { keys: [] };
    };
    try {
      const err = await connectErrorOf(h.client.getJwks({}));
      expect([err.code, err.rawMessage]).toEqual([Code.Unavailable, 'the database is unavailable; retry shortly']);
    } finally {
      await pool.close();
    }
    const logged = h.logs.slice(logsBefore);
    expect(logged.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(logged).toContainEqual(expect.objectContaining({ level: 40, msg: 'the database is unavailable' }));
  });

  it('passes a ConnectError through with its code and message', async () => {
    h.getJwks = async () => {
      throw new ConnectError('no keys yet: auth is starting', Code.FailedPrecondition);
    };
    const err = await connectErrorOf(h.client.getJwks({}, { headers: { 'x-request-id': 'req-failed-1' } }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toBe('no keys yet: auth is starting');
    expect(err.metadata.get('x-request-id')).toBe('req-failed-1');
  });

  it("echoes the caller's x-request-id, and replaces one that could pollute logs", async () => {
    let seenInHandler: string | null = null;
    h.getJwks = async (ctx) => {
      seenInHandler = ctx.requestHeader.get('x-request-id');
      return { keys: [{ kid: 'k1', kty: 'OKP', crv: 'Ed25519', x: 'abc' }] };
    };
    let echoed: string | null = null;
    const res = await h.client.getJwks({}, { headers: { 'x-request-id': 'req-abc.1' }, onHeader: (hd) => (echoed = hd.get('x-request-id')) });
    expect(res.keys.map((k) => k.kid)).toEqual(['k1']);
    expect(seenInHandler).toBe('req-abc.1');
    expect(echoed).toBe('req-abc.1');

    let replaced: string | null = null;
    await h.client.getJwks({}, { headers: { 'x-request-id': 'evil\tid {"level":60}' }, onHeader: (hd) => (replaced = hd.get('x-request-id')) });
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('counts handled calls by the code the caller got', async () => {
    const metrics = h.metrics.registry;
    const count = async (code: string) => metricValue(await metrics.metrics(), 'parley_rpc_server_handled_total', { method: GET_JWKS, code });
    const before = { ok: await count('ok'), internal: await count('Internal'), notFound: await count('NotFound') };

    h.getJwks = async () => ({ keys: [] });
    await h.client.getJwks({});
    await h.client.getJwks({});
    h.getJwks = async () => {
      throw new TypeError('boom');
    };
    await connectErrorOf(h.client.getJwks({}));
    h.getJwks = async () => {
      throw new ConnectError('gone', Code.NotFound);
    };
    await connectErrorOf(h.client.getJwks({}));

    expect(await count('ok')).toBe(before.ok + 2);
    // The plain error is counted as the Internal the caller saw, not as Unknown.
    expect(await count('Internal')).toBe(before.internal + 1);
    expect(await count('Unknown')).toBe(0);
    expect(await count('NotFound')).toBe(before.notFound + 1);
  });
});

describe.each(PROTOCOLS)('access tokens on the server, %s', (_name, protocol) => {
  const verifier: TokenVerifier = {
    async verify(token) {
      if (token === 'good.token.sig') return { userId: 'user-7', sessionId: 'session-7', deviceId: 1 };
      throw rpcError.unauthenticated('invalid access token: log in again');
    },
  };
  let h: Harness;
  beforeAll(async () => {
    h = await start({ verifier, protocol });
    h.getJwks = async (ctx) => ({ keys: [{ kid: requireCaller(ctx).userId }] });
  });

  it('hands the verified caller to the handler', async () => {
    const res = await h.client.getJwks({}, { headers: { authorization: 'Bearer good.token.sig' } });
    expect(res.keys[0]?.kid).toBe('user-7');
  });

  it.each([
    ['no token', undefined, /^missing access token/],
    ['another scheme', 'Basic dXNlcjpwYXNz', /^malformed Authorization header/],
    ['a token the verifier rejects', 'Bearer bad.token.sig', /^invalid access token/],
  ])('rejects a call with %s as Unauthenticated', async (_what, authorization, message) => {
    const err = await connectErrorOf(h.client.getJwks({}, { headers: authorization ? { authorization } : {} }));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(message);
  });
});

describe('graceful shutdown', () => {
  // Under Jest, connect-node cannot classify Node's own errors (another realm), so a refused
  // connection shows as Internal rather than Unavailable; the message still says what happened.
  const refused = (err: ConnectError) => expect(err.message).toMatch(/ECONNREFUSED/);

  it('lets an in-flight call finish and refuses calls after close', async () => {
    const h = await start();
    let calls = 0;
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    const release = gate();
    h.getJwks = async () => {
      calls++;
      started();
      await release.opened;
      return { keys: [{ kid: 'slow' }] };
    };
    const inFlight = h.client.getJwks({});
    await handlerStarted;

    // A grace far longer than the call needs, so only a broken drain can cut it.
    const closed = h.server.close(60_000);
    // A call made while the server drains (the handler is still held) must not reach a handler.
    refused(await connectErrorOf(newClient(h.server.port).getJwks({})));
    release.open();

    await expect(inFlight).resolves.toMatchObject({ keys: [expect.objectContaining({ kid: 'slow' })] });
    await closed;

    // The old client got GOAWAY and must reconnect, which fails: nobody listens any more.
    refused(await connectErrorOf(h.client.getJwks({})));
    expect(calls).toBe(1);
  });

  it('cuts calls that outlive the grace period and aborts their handlers', async () => {
    const h = await start();
    // connect-node reports the destroyed stream on console.error; expected here.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    let aborted!: () => void;
    const handlerAborted = new Promise<void>((r) => (aborted = r));
    // The handler never finishes on its own: only the cut at the end of the grace period ends it.
    h.getJwks = (ctx) =>
      new Promise((resolve) => {
        started();
        ctx.signal.addEventListener('abort', () => {
          aborted();
          resolve({ keys: [] });
        });
      });
    const inFlight = connectErrorOf(h.client.getJwks({}));
    await handlerStarted;
    await h.server.close(100);
    expect((await inFlight).code).toBe(Code.Canceled);
    await handlerAborted;
  });

  it('drains the public HTTP/1.1 server the same way', async () => {
    let calls = 0;
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    const release = gate();
    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      routes: [
        (router) =>
          router.service(AuthInternalService, {
            async getJwks() {
              calls++;
              started();
              await release.opened;
              return { keys: [{ kid: 'slow' }] };
            },
          }),
      ],
      interceptors: [],
    });
    running.push(server);
    const client = () =>
      createClient(AuthInternalService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: '1.1' }));
    const inFlight = client().getJwks({});
    await handlerStarted;
    const closed = server.close(60_000);
    release.open();
    await expect(inFlight).resolves.toMatchObject({ keys: [expect.objectContaining({ kid: 'slow' })] });
    await closed;
    // Refused, or a reused keep-alive socket found closed: either way no handler runs.
    expect((await connectErrorOf(client().getJwks({}))).message).toMatch(/ECONNREFUSED|EPIPE|ECONNRESET|socket hang up/);
    expect(calls).toBe(1);
  });
});
