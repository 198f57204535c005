import { Code, ConnectError, createClient, type HandlerContext } from '@connectrpc/connect';
import { AuthInternalService, SigningPublicKeySchema } from '@parley/proto';
import { connectErrorOf } from '@parley/testing';
import { freePort } from '@parley/stack';
import { internalTransport } from '../src/rpc/client.js';
import { startRpcServer, type RunningServer } from '../src/rpc/server.js';
import { runInRequest } from '../src/observability/request-context.js';

type GetJwks = (ctx: HandlerContext) => Promise<{ keys: { kid: string }[] }>;

let behaviour: GetJwks;
let server: RunningServer;

beforeAll(async () => {
  server = await startRpcServer({
    port: 0,
    host: '127.0.0.1',
    routes: [(router) => router.service(AuthInternalService, { getJwks: (_req, ctx) => behaviour(ctx) })],
    interceptors: [],
  });
});

afterAll(() => server.close(0));

const clientOf = (port: number, opts: { onBehalfOfCaller?: boolean } = {}) => createClient(AuthInternalService, internalTransport(`http://127.0.0.1:${port}`, opts));

/** Resolves when the handler has started; the handler then waits until its call is aborted. */
function hangingHandler(): { started: Promise<HandlerContext>; aborted: Promise<unknown> } {
  let started!: (ctx: HandlerContext) => void;
  let aborted!: (reason: unknown) => void;
  const result = { started: new Promise<HandlerContext>((r) => (started = r)), aborted: new Promise((r) => (aborted = r)) };
  behaviour = (ctx) =>
    new Promise((_resolve, reject) => {
      started(ctx);
      ctx.signal.addEventListener('abort', () => {
        aborted(ctx.signal.reason);
        reject(ctx.signal.reason);
      });
    });
  return result;
}

describe('the internal unary transport', () => {
  it('calls and decodes', async () => {
    behaviour = async () => ({ keys: [{ kid: 'k1' }, { kid: 'k2' }] });
    await expect(clientOf(server.port).getJwks({})).resolves.toMatchObject({ keys: [{ kid: 'k1' }, { kid: 'k2' }] });
  });

  it("carries the caller's request id and credentials, unless told not to", async () => {
    const seen: (string | null)[][] = [];
    behaviour = async (ctx) => {
      seen.push([ctx.requestHeader.get('x-request-id'), ctx.requestHeader.get('authorization')]);
      return { keys: [] };
    };
    await runInRequest({ requestId: 'req-7', authorization: 'Bearer abc' }, async () => {
      await clientOf(server.port).getJwks({});
      await clientOf(server.port, { onBehalfOfCaller: false }).getJwks({});
    });
    expect(seen).toEqual([
      ['req-7', 'Bearer abc'],
      [null, null],
    ]);
  });

  it('gives back an error with its code, message, details and metadata', async () => {
    behaviour = async () => {
      const err = new ConnectError('no such key', Code.NotFound, { 'x-why': 'rotated' });
      err.details.push({ desc: SigningPublicKeySchema, value: { kid: 'old' } });
      throw err;
    };
    const err = await connectErrorOf(clientOf(server.port).getJwks({}));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('no such key');
    expect(err.metadata.get('x-why')).toBe('rotated');
    expect(err.findDetails(SigningPublicKeySchema).map((d) => d.kid)).toEqual(['old']);
  });

  it('sends the deadline, and ends a call past it as DEADLINE_EXCEEDED', async () => {
    const handler = hangingHandler();
    const call = connectErrorOf(clientOf(server.port).getJwks({}, { timeoutMs: 200 }));
    const ctx = await handler.started;
    expect(ctx.timeoutMs()).toBeLessThanOrEqual(200);
    expect((await call).code).toBe(Code.DeadlineExceeded);
    await handler.aborted;
  });

  it('ends an aborted call as CANCELED, and the handler hears of it', async () => {
    const handler = hangingHandler();
    const abort = new AbortController();
    const call = connectErrorOf(clientOf(server.port).getJwks({}, { signal: abort.signal }));
    await handler.started;
    abort.abort();
    expect((await call).code).toBe(Code.Canceled);
    await handler.aborted;
  });

  it('says UNAVAILABLE when nobody listens, and when the server goes away mid-call', async () => {
    expect((await connectErrorOf(clientOf(await freePort()).getJwks({}))).code).toBe(Code.Unavailable);

    const doomed = await startRpcServer({
      port: 0,
      host: '127.0.0.1',
      routes: [(router) => router.service(AuthInternalService, { getJwks: (_req, ctx) => behaviour(ctx) })],
      interceptors: [],
    });
    const handler = hangingHandler();
    const call = connectErrorOf(clientOf(doomed.port).getJwks({}));
    await handler.started;
    await doomed.close(0);
    expect((await call).code).toBe(Code.Unavailable);
  });
});
