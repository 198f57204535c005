import { Code, ConnectError, createClient, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { AuthInternalService, DeliveryService, SigningPublicKeySchema, type SubscribeResponse } from '@parley/proto';
import { connectErrorOf } from '@parley/testing';
import { freePort } from '@parley/stack';
import { internalTransport } from '../src/rpc/client.js';
import { startRpcServer, type RunningServer } from '../src/rpc/server.js';
import { runInRequest } from '../src/observability/request-context.js';

type GetJwks = (ctx: HandlerContext) => Promise<{ keys: { kid: string }[] }>;
type Subscribe = (ctx: HandlerContext) => AsyncIterable<Partial<SubscribeResponse>>;

let behaviour: GetJwks;
let streamBehaviour: Subscribe;
let server: RunningServer;

const routes = [
  (router: ConnectRouter) => router.service(AuthInternalService, { getJwks: (_req, ctx) => behaviour(ctx) }),
  (router: ConnectRouter) => router.service(DeliveryService, { subscribe: (_req, ctx) => streamBehaviour(ctx) as never }),
];

beforeAll(async () => {
  server = await startRpcServer({ port: 0, host: '127.0.0.1', routes, interceptors: [] });
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

describe('the lean transport, unary calls', () => {
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

    const doomed = await startRpcServer({ port: 0, host: '127.0.0.1', routes, interceptors: [] });
    const handler = hangingHandler();
    const call = connectErrorOf(clientOf(doomed.port).getJwks({}));
    await handler.started;
    await doomed.close(0);
    expect((await call).code).toBe(Code.Unavailable);
  });
});

describe('the lean transport, server streams', () => {
  const stream = (port = server.port, opts: { signal?: AbortSignal } = {}) => createClient(DeliveryService, internalTransport(`http://127.0.0.1:${port}`)).subscribe({}, opts);
  const heartbeat = { event: { case: 'heartbeat' as const, value: {} } };

  it('reads the messages in order, then the trailers', async () => {
    streamBehaviour = async function* (ctx) {
      for (let i = 0; i < 3; i++) yield heartbeat;
      yield { event: { case: 'queueEmpty', value: {} } };
      ctx.responseTrailer.set('x-count', '4');
    };
    let trailer: string | null = null;
    const cases: (string | undefined)[] = [];
    for await (const res of createClient(DeliveryService, internalTransport(`http://127.0.0.1:${server.port}`)).subscribe({}, { onTrailer: (t) => (trailer = t.get('x-count')) })) {
      cases.push(res.event.case);
    }
    expect(cases).toEqual(['heartbeat', 'heartbeat', 'heartbeat', 'queueEmpty']);
    expect(trailer).toBe('4');
  });

  it('throws the error the stream ended with, after the messages before it', async () => {
    streamBehaviour = async function* () {
      yield heartbeat;
      const err = new ConnectError('replaced: another Subscribe for this device is open', Code.FailedPrecondition);
      err.details.push({ desc: SigningPublicKeySchema, value: { kid: 'k' } });
      throw err;
    };
    const seen: string[] = [];
    const err = await connectErrorOf(
      (async () => {
        for await (const res of stream()) seen.push(res.event.case ?? '');
      })(),
    );
    expect(seen).toEqual(['heartbeat']);
    expect([err.code, err.rawMessage]).toEqual([Code.FailedPrecondition, 'replaced: another Subscribe for this device is open']);
    expect(err.findDetails(SigningPublicKeySchema).map((d) => d.kid)).toEqual(['k']);
  });

  it('ends a stream the caller aborts as CANCELED, and the handler hears of it', async () => {
    let aborted!: () => void;
    const handlerAborted = new Promise<void>((r) => (aborted = r));
    streamBehaviour = async function* (ctx) {
      yield heartbeat;
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      aborted();
    };
    const abort = new AbortController();
    const err = await connectErrorOf(
      (async () => {
        for await (const _ of stream(server.port, { signal: abort.signal })) abort.abort();
      })(),
    );
    expect(err.code).toBe(Code.Canceled);
    await handlerAborted;
  });

  it('says UNAVAILABLE when the server goes away mid-stream', async () => {
    const doomed = await startRpcServer({ port: 0, host: '127.0.0.1', routes, interceptors: [] });
    streamBehaviour = async function* (ctx) {
      yield heartbeat;
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    };
    const err = await connectErrorOf(
      (async () => {
        for await (const _ of stream(doomed.port)) await doomed.close(0);
      })(),
    );
    expect(err.code).toBe(Code.Unavailable);
  });
});
