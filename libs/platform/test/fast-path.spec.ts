import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { AuthInternalService, DeliveryService, GetJwksRequestSchema, SigningPublicKeySchema, SubscribeRequestSchema, type SubscribeResponse } from '@parley/proto';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { connectNodeHandler, startHttpServer, type RunningServer } from '../src/rpc/server.js';

/**
 * The fast path must be indistinguishable from connect-node on the wire: every case below is sent
 * as raw HTTP to a server on the fast path and to the platform's connect-node server (connect-node
 * whose answers to malformed input say INVALID_ARGUMENT) with the same routes, and the two answers must match byte for byte (status, content type, body, and the
 * headers a handler or an error sets).
 */

type GetJwks = (ctx: HandlerContext) => Promise<{ keys: { kid: string }[] }>;
let behaviour: GetJwks = async () => ({ keys: [] });
type Subscribe = (ctx: HandlerContext) => AsyncIterable<Partial<SubscribeResponse>>;
let streamBehaviour: Subscribe = async function* () {
  yield* [];
};

const routes = (router: ConnectRouter) => {
  router.service(AuthInternalService, { getJwks: (_req, ctx) => behaviour(ctx) });
  router.service(DeliveryService, { subscribe: (_req, ctx) => streamBehaviour(ctx) as never });
};
const READ_MAX_BYTES = 64;

let fast: RunningServer;
let plain: http.Server;
let plainPort: number;

beforeAll(async () => {
  fast = await startHttpServer({ port: 0, host: '127.0.0.1', routes: [routes], interceptors: [], readMaxBytes: READ_MAX_BYTES });
  plain = http.createServer(connectNodeHandler({ port: 0, routes: [routes], interceptors: [], readMaxBytes: READ_MAX_BYTES }));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as AddressInfo).port;
});

afterAll(async () => {
  await fast.close(0);
  await new Promise((r) => plain.close(r));
});

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
  headers: Record<string, string | null>;
}

const PATH = `/${AuthInternalService.typeName}/GetJwks`;
const STREAM_PATH = `/${DeliveryService.typeName}/Subscribe`;
const COMPARED_HEADERS = ['x-handler', 'trailer-x-trailer', 'x-error-meta'];

async function send(port: number, body: Uint8Array | string, headers: Record<string, string>, path = PATH): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type');
  return {
    status: res.status,
    contentType,
    body: contentType?.includes('json') ? bytes.toString('utf8') : bytes.toString('base64'),
    headers: Object.fromEntries(COMPARED_HEADERS.map((h) => [h, res.headers.get(h)])),
  };
}

/** Both servers' answers to the same request; fails unless they are the same. */
async function bothAnswer(body: Uint8Array | string, headers: Record<string, string>, path = PATH): Promise<Answer> {
  const [viaFastPath, viaConnect] = await Promise.all([send(fast.port, body, headers, path), send(plainPort, body, headers, path)]);
  expect(viaFastPath).toEqual(viaConnect);
  return viaFastPath;
}

const binary = { 'content-type': 'application/proto' };
const json = { 'content-type': 'application/json' };
const emptyRequest = toBinary(GetJwksRequestSchema, create(GetJwksRequestSchema));

describe('the unary fast path answers as connect-node does', () => {
  it('a binary call, with the headers and trailers a handler sets', async () => {
    behaviour = async (ctx) => {
      ctx.responseHeader.set('x-handler', 'h1');
      ctx.responseTrailer.set('x-trailer', 't1');
      return { keys: [{ kid: 'k1' }] };
    };
    const answer = await bothAnswer(emptyRequest, binary);
    expect(answer.status).toBe(200);
    expect(answer.headers['trailer-x-trailer']).toBe('t1');
  });

  it('a JSON call, with or without a charset', async () => {
    behaviour = async () => ({ keys: [{ kid: 'k2' }] });
    expect((await bothAnswer('{}', json)).body).toBe('{"keys":[{"kid":"k2"}]}');
    await bothAnswer('{}', { 'content-type': 'application/json; charset=utf-8' });
  });

  it('a JSON field the message does not have, which both ignore', async () => {
    behaviour = async () => ({ keys: [] });
    expect((await bothAnswer('{"nope":1}', json)).status).toBe(200);
  });

  it('an error with a detail and metadata', async () => {
    behaviour = async () => {
      const err = new ConnectError('no such key', Code.NotFound, { 'x-error-meta': 'm1' });
      err.details.push({ desc: SigningPublicKeySchema, value: { kid: 'missing' } });
      throw err;
    };
    const answer = await bothAnswer(emptyRequest, binary);
    expect(answer.status).toBe(404);
    expect(answer.headers['x-error-meta']).toBe('m1');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'not_found', message: 'no such key', details: [expect.objectContaining({ type: SigningPublicKeySchema.typeName })] });
  });

  it('an unexpected error, as internal', async () => {
    behaviour = async () => {
      throw new Error('secret');
    };
    const answer = await bothAnswer(emptyRequest, binary);
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('secret');
  });

  it.each([
    ['malformed JSON', '{"keys":', json, 'invalid_argument'],
    ['malformed binary', new Uint8Array([0xff, 0xff, 0xff]), binary, 'invalid_argument'],
    ['a malformed timeout', '{}', { ...json, 'connect-timeout-ms': 'soon' }, 'invalid_argument'],
  ])('%s', async (_what, body, headers, code) => {
    behaviour = async () => ({ keys: [] });
    const answer = await bothAnswer(body, headers);
    expect([answer.status, JSON.parse(answer.body).code]).toEqual([400, code]);
  });

  // Where the fast path answers otherwise on purpose: connect-node says 429, which invites a retry
  // that can't succeed; the fast path says 413, declared or chunked.
  it.each([
    ['declared', 'x'.repeat(READ_MAX_BYTES + 1)],
    ['chunked', new Blob(['x'.repeat(READ_MAX_BYTES + 1)]).stream()],
  ])('a body past readMaxBytes, %s, as 413 resource_exhausted', async (_how, body) => {
    behaviour = async () => ({ keys: [] });
    const res = await fetch(`http://127.0.0.1:${fast.port}${PATH}`, { method: 'POST', headers: json, body, duplex: 'half' } as RequestInit);
    expect([res.status, await res.json()]).toEqual([
      413,
      { code: 'resource_exhausted', message: expect.stringMatching(new RegExp(`is larger than the limit of ${READ_MAX_BYTES} bytes: send less$`)) },
    ]);
  });

  it('a deadline the handler sees through its signal and timeoutMs', async () => {
    let remaining: number | undefined;
    behaviour = (ctx) =>
      new Promise((_resolve, reject) => {
        remaining = ctx.timeoutMs();
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      });
    const answer = await bothAnswer('{}', { ...json, 'connect-timeout-ms': '50' });
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'deadline_exceeded' });
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(50);
  });
});

describe('the stream fast path answers as connect-node does', () => {
  const streamBinary = { 'content-type': 'application/connect+proto' };
  const streamJson = { 'content-type': 'application/connect+json' };
  const request = encodeEnvelope(0, toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema)));
  const jsonRequest = encodeEnvelope(0, new TextEncoder().encode('{}'));
  const ask = (body: Uint8Array, headers: Record<string, string>) => bothAnswer(body, headers, STREAM_PATH);

  it('messages, the headers the handler set, and the trailers in the end-stream message', async () => {
    streamBehaviour = async function* (ctx) {
      ctx.responseHeader.set('x-handler', 's1');
      yield { event: { case: 'heartbeat', value: {} } };
      yield { event: { case: 'queueEmpty', value: {} } };
      ctx.responseTrailer.set('x-trailer', 't2');
    };
    const answer = await ask(request, streamBinary);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-handler']).toBe('s1');
    await ask(jsonRequest, streamJson);
  });

  it('an error after some messages, and one before any', async () => {
    streamBehaviour = async function* () {
      yield { event: { case: 'heartbeat', value: {} } };
      throw new ConnectError('replaced', Code.FailedPrecondition, { 'x-error-meta': 'm2' });
    };
    expect((await ask(request, streamJson)).status).toBe(200);
    streamBehaviour = () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('secret')) }),
    });
    expect((await ask(request, streamBinary)).body).not.toContain('secret');
  });

  it.each([
    ['no envelope', new Uint8Array([]), 'unimplemented'],
    ['a truncated envelope', new Uint8Array([0, 0, 0, 0, 9, 1]), 'invalid_argument'],
    ['a compressed envelope without an encoding', encodeEnvelope(1, new Uint8Array([1])), 'invalid_argument'],
    ['two envelopes', new Uint8Array([...request, ...request]), 'unimplemented'],
    ['a malformed message', encodeEnvelope(0, new Uint8Array([0xff, 0xff])), 'invalid_argument'],
  ])('%s', async (_what, body, code) => {
    streamBehaviour = async function* () {
      yield { event: { case: 'heartbeat', value: {} } };
    };
    const { body: answer } = await ask(body, streamBinary);
    expect(endStreamError(answer)).toMatchObject({ code });
  });
});

/** The error in the end-stream message that closes a (base64) stream body. */
function endStreamError(base64: string): unknown {
  const bytes = Buffer.from(base64, 'base64');
  for (let offset = 0; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset + 1);
    if (bytes[offset]! & 0b10) return JSON.parse(bytes.subarray(offset + 5, offset + 5 + length).toString('utf8')).error;
    offset += 5 + length;
  }
  return undefined;
}

describe('what the fast path leaves to connect-node', () => {
  it('still serves compressed, streaming-typed and unknown requests', async () => {
    behaviour = async () => ({ keys: [{ kid: 'k3' }] });
    // The fast path does not decompress; connect-node without compression refuses the encoding.
    await bothAnswer('{}', { ...json, 'content-encoding': 'gzip' });
    await bothAnswer('{}', { 'content-type': 'text/plain' });
    const unknown = await fetch(`http://127.0.0.1:${fast.port}/parley.nope.v1.Nope/Call`, { method: 'POST', headers: json, body: '{}' });
    expect(unknown.status).toBe(404);
  });

  it('answers malformed gRPC-Web INVALID_ARGUMENT in its trailer frame, as the fast path would', async () => {
    behaviour = async () => ({ keys: [] });
    const grpcWeb = { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' };
    for (const body of [encodeEnvelope(0, new Uint8Array([0xff, 0xff])), encodeEnvelope(1, new Uint8Array([1]))]) {
      const res = await fetch(`http://127.0.0.1:${fast.port}${PATH}`, { method: 'POST', headers: grpcWeb, body });
      const trailer = Buffer.from(await res.arrayBuffer());
      expect([res.status, trailer[0], /grpc-status: (\d+)/.exec(trailer.subarray(5).toString())?.[1]]).toEqual([200, 0x80, String(Code.InvalidArgument)]);
    }
  });

  it('answers a body that is not in its declared encoding INVALID_ARGUMENT', async () => {
    const answer = await bothAnswer('{}', { ...json, 'content-encoding': 'gzip' });
    expect(answer.status).toBe(400);
  });
});
