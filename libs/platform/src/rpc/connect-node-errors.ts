import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { invalidInput } from './invalid-input.js';

const MAPPED_STATUS = codeToHttpStatus(Code.Internal);

/**
 * connect-node parses a unary request before the interceptor chain runs, so a body that doesn't
 * parse answers INTERNAL without the chain's error mapping seeing it. This wraps the router's
 * handlers so such an answer says INVALID_ARGUMENT, as the fast path and the chain do
 * (`invalidInput`): in the Connect protocol's JSON error, and in a gRPC or gRPC-Web trailers-only
 * answer. A stream's request is parsed as the chain reads it: `invalidInputOfStreams` maps that.
 */
export function mappingInvalidInput(router: ConnectRouter): void {
  const handlers = router.handlers;
  handlers.forEach((handler, i) => {
    if (handler.method.methodKind !== 'unary') return;
    const wrapped = async (req: Parameters<UniversalHandler>[0]) => remapped(await handler(req));
    handlers[i] = Object.assign(wrapped, handler) as UniversalHandler;
  });
}

async function remapped(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const grpcStatus = res.header?.get('grpc-status');
  if (grpcStatus === String(Code.Internal)) {
    const mapped = invalidInput(new ConnectError(decodeURIComponent(res.header!.get('grpc-message') ?? ''), Code.Internal));
    if (mapped) {
      res.header!.set('grpc-status', String(mapped.code));
      res.header!.set('grpc-message', encodeURIComponent(mapped.rawMessage));
    }
    return res;
  }
  if (res.status !== MAPPED_STATUS || !res.header?.get('content-type')?.startsWith('application/json') || !res.body) return res;
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const mapped = invalidInput(errorFromJsonBytes(body, undefined, new ConnectError('', Code.Internal)));
  const answer = mapped ? errorToJsonBytes(mapped, {}) : body;
  res.header.delete('content-length');
  return { ...res, status: mapped ? codeToHttpStatus(mapped.code) : res.status, body: once(answer) };
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
