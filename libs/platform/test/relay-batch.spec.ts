import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, fromBinary, toBinary, type DescMethodUnary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { GetPreKeyBundlesRequestSchema, KeyService, PreKeyBundleSchema, RelayRequestSchema, RelayResponseSchema, RelayService } from '@parley/proto';
import { internalRelay } from '../src/rpc/client.js';
import { startHttpServer, startRpcServer, type RunningServer } from '../src/rpc/server.js';

/**
 * Relayed calls in batches: a backend serves each call of a batch exactly as it would have
 * served it alone, and a relay sends the calls of one method that wait behind a call in flight
 * together, each getting its own answer.
 */

const method = KeyService.method.getPreKeyBundles as DescMethodUnary;
const PROCEDURE = `/${KeyService.typeName}/GetPreKeyBundles`;
const RELAY_PATH = `/${RelayService.typeName}/Relay`;
const userId = '6f1c1b9e-3c1f-4f7e-9a59-0d2b8f0c8a11';

describe("a backend's RelayService", () => {
  let backend: RunningServer;
  const authorizations: (string | null)[] = [];
  const recording: Interceptor = (next) => (req) => {
    authorizations.push(req.header.get('authorization'));
    return next(req);
  };

  beforeAll(async () => {
    backend = await startRpcServer({
      port: 0,
      host: '127.0.0.1',
      routes: [
        (router) =>
          router.service(KeyService, {
            async getPreKeyBundles(req, ctx) {
              if (req.deviceId === 9) throw new ConnectError('no device 9', Code.NotFound);
              if (req.deviceId === 8) await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
              return { bundles: [create(PreKeyBundleSchema, { deviceId: req.deviceId })] };
            },
          }),
      ],
      interceptors: [recording],
    });
  });

  afterAll(() => backend.close(0));

  const post = async (path: string, body: Uint8Array | string, headers: Record<string, string>) => {
    const res = await fetch(`http://127.0.0.1:${backend.port}${path}`, { method: 'POST', headers, body });
    return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
  };
  const binaryBody = (deviceId: number) => toBinary(GetPreKeyBundlesRequestSchema, create(GetPreKeyBundlesRequestSchema, { userId, deviceId }));

  it('answers each call as that call alone would have been answered, through the interceptors with its own headers', async () => {
    const calls = [
      { procedure: PROCEDURE, binary: true, body: binaryBody(1), headers: { authorization: 'Bearer a' } },
      { procedure: PROCEDURE, binary: false, body: new TextEncoder().encode(JSON.stringify({ userId, deviceId: 2 })), headers: { authorization: 'Bearer b' } },
      { procedure: PROCEDURE, binary: false, body: new TextEncoder().encode(JSON.stringify({ userId, deviceId: 9 })), headers: {} },
      { procedure: PROCEDURE, binary: false, body: new TextEncoder().encode('{"userId":'), headers: {} },
    ];
    authorizations.length = 0;
    const batch = await post(RELAY_PATH, toBinary(RelayRequestSchema, create(RelayRequestSchema, { calls })), { 'content-type': 'application/proto' });
    expect(batch.status).toBe(200);
    const { answers } = fromBinary(RelayResponseSchema, batch.body);
    expect(authorizations.slice(0, 3)).toEqual(['Bearer a', 'Bearer b', null]);
    const alone = await Promise.all(
      calls.map((c) => post(PROCEDURE, c.body, { 'content-type': c.binary ? 'application/proto' : 'application/json', ...c.headers })),
    );
    expect(answers.map((a) => ({ status: a.status, body: a.body }))).toEqual(alone);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 400]);
  });

  it('holds a call to the deadline it was sent with, and says which procedure it does not have', async () => {
    const calls = [
      { procedure: PROCEDURE, binary: true, body: binaryBody(8), headers: {}, timeoutMs: 50 },
      { procedure: '/parley.nope.v1.Nope/Call', binary: true, body: new Uint8Array(), headers: {} },
    ];
    const batch = await post(RELAY_PATH, toBinary(RelayRequestSchema, create(RelayRequestSchema, { calls })), { 'content-type': 'application/proto' });
    const { answers } = fromBinary(RelayResponseSchema, batch.body);
    expect(answers.map((a) => [a.status, JSON.parse(new TextDecoder().decode(a.body)).code])).toEqual([
      [504, 'deadline_exceeded'],
      [501, 'unimplemented'],
    ]);
  });
});

describe('a public server', () => {
  it('takes no batches of relayed calls: they could carry headers only the edge may set', async () => {
    const routes = [(router: ConnectRouter) => router.service(KeyService, { getPreKeyBundles: async () => ({}) })];
    const server = await startHttpServer({ port: 0, host: '127.0.0.1', routes, interceptors: [] });
    try {
      const calls = [{ procedure: PROCEDURE, binary: true, body: new Uint8Array(), headers: { 'x-parley-client-address': '10.0.0.1' } }];
      const res = await fetch(`http://127.0.0.1:${server.port}${RELAY_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/proto' },
        body: toBinary(RelayRequestSchema, create(RelayRequestSchema, { calls })),
      });
      expect(res.status).toBe(404);
    } finally {
      await server.close(0);
    }
  });
});

describe('a relay', () => {
  /** A stand-in backend: it holds plain calls until released and answers batches call by call. */
  let server: http.Server;
  let port: number;
  const seen: { path: string; procedures?: string[]; authorizations?: string[] }[] = [];
  let release: () => void = () => undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === RELAY_PATH) {
          const { calls } = fromBinary(RelayRequestSchema, body);
          seen.push({ path: req.url, procedures: calls.map((c) => c.procedure), authorizations: calls.map((c) => c.headers.authorization!) });
          const answers = calls.map((c) => ({ status: 200, body: new TextEncoder().encode(`answer to ${c.headers.authorization}`) }));
          const out = toBinary(RelayResponseSchema, create(RelayResponseSchema, { answers }));
          res.writeHead(200, { 'content-type': 'application/proto', 'content-length': out.byteLength }).end(out);
          return;
        }
        seen.push({ path: req.url! });
        release = () => res.writeHead(200, { 'content-type': 'application/json' }).end('"alone"');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise((r) => server.close(r)));

  it('sends a call alone when none is in flight, then the ones that waited as one batch, each answered its own', async () => {
    const send = internalRelay(`http://127.0.0.1:${port}`);
    const call = (who: string, signal = new AbortController().signal) =>
      send(method, new TextEncoder().encode('{}'), false, { headers: { authorization: who }, signal }).then((b) => new TextDecoder().decode(b));
    const first = call('a');
    await waitFor(() => seen.length === 1);
    const gone = new AbortController();
    const waiting = [call('b'), call('c'), call('d', gone.signal), call('e')];
    gone.abort();
    release();
    const answers = await Promise.allSettled([first, ...waiting]);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : ConnectError.from(a.reason).code))).toEqual([
      '"alone"',
      'answer to b',
      'answer to c',
      Code.Canceled,
      'answer to e',
    ]);
    expect(seen).toEqual([
      { path: PROCEDURE },
      { path: RELAY_PATH, procedures: [PROCEDURE, PROCEDURE, PROCEDURE], authorizations: ['b', 'c', 'e'] },
    ]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}
