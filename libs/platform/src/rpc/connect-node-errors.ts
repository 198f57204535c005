import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { invalidInput } from './invalid-input.js';

const INTERNAL_STATUS = codeToHttpStatus(Code.Internal);
/** gRPC-Web's flag for the frame that carries the trailers. */
const TRAILER_FLAG = 0x80;

/**
 * connect-node parses some requests outside the interceptor chain (a unary call's body, a gRPC-Web
 * call's envelopes, a body it can't decompress), so such a failure answers INTERNAL without the
 * chain's error mapping seeing it. This wraps the router's handlers so the answer says
 * INVALID_ARGUMENT wherever the protocol puts the code, as the fast path and the chain do
 * (`invalidInput`): a Connect unary error's JSON, a gRPC trailers-only head, a gRPC-Web trailer frame.
 */
export function mappingInvalidInput(router: ConnectRouter): void {
  const handlers = router.handlers;
  handlers.forEach((handler, i) => {
    const wrapped = async (req: Parameters<UniversalHandler>[0]) => remapped(await handler(req));
    handlers[i] = Object.assign(wrapped, handler) as UniversalHandler;
  });
}

/** `code` and `message` as the caller's input, if they are one of connect's INTERNAL answers to it. */
function asInvalid(code: string | null | undefined, message: string): ConnectError | undefined {
  return code === String(Code.Internal) ? invalidInput(new ConnectError(message, Code.Internal)) : undefined;
}

async function remapped(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const header = res.header;
  const mapped = asInvalid(header?.get('grpc-status'), decodeURIComponent(header?.get('grpc-message') ?? ''));
  if (mapped) {
    header!.set('grpc-status', String(mapped.code));
    header!.set('grpc-message', encodeURIComponent(mapped.rawMessage));
    return res;
  }
  const type = header?.get('content-type') ?? '';
  if (res.body && type.startsWith('application/grpc-web')) return { ...res, body: withTrailersRemapped(res.body) };
  if (res.body && res.status === INTERNAL_STATUS && type.startsWith('application/json')) return remappedConnectError(res, res.body);
  return res;
}

/** A Connect unary error answer with its JSON error remapped. */
async function remappedConnectError(res: UniversalServerResponse, body: AsyncIterable<Uint8Array>): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const error = errorFromJsonBytes(bytes, undefined, new ConnectError('', Code.Internal));
  const mapped = asInvalid(String(error.code), error.rawMessage);
  res.header?.delete('content-length');
  return { ...res, status: mapped ? codeToHttpStatus(mapped.code) : res.status, body: once(mapped ? errorToJsonBytes(mapped, {}) : bytes) };
}

/** gRPC-Web's body, with the trailer frame's status remapped; connect-node writes each frame as one chunk. */
async function* withTrailersRemapped(body: AsyncIterable<Uint8Array>) {
  for await (const chunk of body) {
    const frame = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (frame.length < 5 || frame[0] !== TRAILER_FLAG || frame.readUInt32BE(1) !== frame.length - 5) {
      yield chunk;
      continue;
    }
    const trailers = frame.subarray(5).toString('latin1');
    const field = (name: string) => new RegExp(`^${name}: ?(.*?)\\r?$`, 'im').exec(trailers)?.[1];
    const mapped = asInvalid(field('grpc-status'), decodeURIComponent(field('grpc-message') ?? ''));
    if (!mapped) {
      yield chunk;
      continue;
    }
    const text = trailers
      .replace(/^grpc-status: ?.*$/im, `grpc-status: ${mapped.code}\r`)
      .replace(/^grpc-message: ?.*$/im, `grpc-message: ${encodeURIComponent(mapped.rawMessage)}\r`);
    const payload = Buffer.from(text, 'latin1');
    const head = Buffer.alloc(5);
    head[0] = TRAILER_FLAG;
    head.writeUInt32BE(payload.length, 1);
    yield Buffer.concat([head, payload]);
  }
}

async function* once(bytes: Uint8Array) {
  yield bytes;
}

/** The innermost interceptor of connect-node's chain: a stream request that doesn't parse is INVALID_ARGUMENT. */
export const invalidInputOfStreams: Interceptor = (next) => async (req) => {
  if (!req.stream) return next(req);
  try {
    return await next(req);
  } catch (err) {
    throw invalidInput(err) ?? err;
  }
};
