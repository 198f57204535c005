import { create, toBinary, type DescMethodUnary } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { GetPreKeyBundlesRequestSchema, KeyService, PreKeyBundleSchema } from '@parley/proto';
import { freePort } from '@parley/stack';
import { internalRelay } from '../src/rpc/client.js';
import { startHttpServer, startRpcServer, type RunningServer } from '../src/rpc/server.js';

/**
 * A relay passes a unary call's bytes to the backend and the answer's bytes back: the front's
 * answer must be the backend's own, byte for byte, in either format, with the front's interceptors
 * run around it.
 */

type Handler = (req: { userId: string; deviceId: number }, ctx: HandlerContext) => Promise<unknown>;
let behaviour: Handler;
let backendHeaders: Headers | undefined;
const seenByInterceptor: { method: string; userId?: string }[] = [];
let readMessage = false;

const method = KeyService.method.getPreKeyBundles as DescMethodUnary;
const PATH = `/${KeyService.typeName}/GetPreKeyBundles`;

let backend: RunningServer;
let front: RunningServer;

const recording: Interceptor = (next) => async (req) => {
  seenByInterceptor.push({ method: req.method.name, userId: readMessage ? (req.message as unknown as { userId: string }).userId : undefined });
  return next(req);
};

beforeAll(async () => {
  backend = await startRpcServer({
    port: 0,
    host: '127.0.0.1',
    routes: [
      (router) =>
        router.service(KeyService, {
          getPreKeyBundles: (req, ctx) => {
            backendHeaders = ctx.requestHeader;
            return behaviour(req, ctx) as never;
          },
        }),
    ],
    interceptors: [],
  });
  const send = internalRelay(`http://127.0.0.1:${backend.port}`);
  front = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    routes: [],
    relays: [{ method, send: (body, binary, ctx) => send(method, body, binary, { headers: { authorization: ctx.requestHeader.get('authorization') ?? '' }, signal: ctx.signal }) }],
    interceptors: [recording],
  });
});

afterAll(async () => {
  await front.close(0);
  await backend.close(0);
});

beforeEach(() => {
  seenByInterceptor.length = 0;
  readMessage = false;
  behaviour = async (req) => ({ bundles: [create(PreKeyBundleSchema, { deviceId: req.deviceId, identityKey: new Uint8Array([1, 2, 3]) })] });
});

async function call(port: number, body: Uint8Array | string, contentType: string) {
  const res = await fetch(`http://127.0.0.1:${port}${PATH}`, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: 'Bearer t', 'x-not-passed': 'no' },
    body,
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

const userId = '6f1c1b9e-3c1f-4f7e-9a59-0d2b8f0c8a11';

describe('a unary relay', () => {
  it.each([
    ['binary', toBinary(GetPreKeyBundlesRequestSchema, create(GetPreKeyBundlesRequestSchema, { userId, deviceId: 3 })), 'application/proto'],
    ['JSON', JSON.stringify({ userId, deviceId: 3 }), 'application/json'],
  ])('answers a %s call with the backend’s own bytes, passing on only what the relay names', async (_format, body, contentType) => {
    const relayed = await call(front.port, body, contentType);
    expect(backendHeaders?.get('authorization')).toBe('Bearer t');
    expect(backendHeaders?.get('x-not-passed')).toBeNull();
    expect(seenByInterceptor).toEqual([{ method: 'GetPreKeyBundles', userId: undefined }]);
    expect(relayed.status).toBe(200);
    expect(relayed).toEqual(await call(backend.port, body, contentType));
  });

  it('decodes the request for an interceptor that reads it', async () => {
    readMessage = true;
    expect((await call(front.port, JSON.stringify({ userId, deviceId: 1 }), 'application/json')).status).toBe(200);
    expect(seenByInterceptor).toEqual([{ method: 'GetPreKeyBundles', userId }]);
  });

  it('answers the backend’s error with its code, message and details', async () => {
    behaviour = async () => {
      const err = new ConnectError('no such device', Code.NotFound);
      err.details.push({ desc: PreKeyBundleSchema, value: { deviceId: 9 } });
      throw err;
    };
    const relayed = await call(front.port, '{}', 'application/json');
    expect(relayed.status).toBe(404);
    expect(JSON.parse(relayed.body.toString())).toEqual(JSON.parse((await call(backend.port, '{}', 'application/json')).body.toString()));
  });

  it('refuses a malformed request as the backend does', async () => {
    const relayed = await call(front.port, '{"userId":', 'application/json');
    expect(relayed.status).toBe(400);
    expect(JSON.parse(relayed.body.toString())).toMatchObject({ code: 'invalid_argument' });
  });

  it('says UNAVAILABLE when the backend is down', async () => {
    const send = internalRelay(`http://127.0.0.1:${await freePort()}`);
    const err = await send(method, new Uint8Array(), true, { headers: {}, signal: new AbortController().signal }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Unavailable);
  });
});
