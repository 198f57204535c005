import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, isMessage, type DescMessage, type DescMethod, type DescMethodUnary, type DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextValues, type ConnectRouter, type HandlerContext, type Interceptor, type UnaryRequest, type UnaryResponse } from '@connectrpc/connect';
import { createMethodSerializationLookup, type MethodSerializationLookup } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, errorToJsonBytes, parseTimeout } from '@connectrpc/connect/protocol-connect';
import { LiteHeaders } from './lite-headers.js';

type Routes = (router: ConnectRouter) => void;
type UnaryImpl = (req: unknown, ctx: HandlerContext) => unknown;

interface UnaryRoute {
  method: DescMethodUnary;
  impl: UnaryImpl;
  serialization: MethodSerializationLookup<DescMessage, DescMessage>;
  /** The implementation behind the interceptors, built once per method. */
  invoke: (req: UnaryRequest) => Promise<UnaryResponse>;
}

export interface UnaryFastPathOptions {
  routes: Routes[];
  interceptors: readonly Interceptor[];
  readMaxBytes: number;
}

/** Serves a request, or returns false to leave it to connect-node. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const JSON_TYPE = /^application\/json(?:; ?charset=utf-?8)?$/i;

/**
 * The Connect protocol's unary POST (binary or JSON, uncompressed), which is every hot call, served
 * without connect-node's general pipeline: its async iterables, fetch Headers, and an
 * AbortController with a DOMException per call cost several times the call itself. The same
 * routes and the same interceptor chain run, and the wire format is Connect's own (its
 * serialization, timeout parsing and error JSON are used), so a client can't tell which path
 * served it. Everything else (streams, gRPC, gRPC-Web, GET, compression) returns false.
 */
export function unaryFastPath(opts: UnaryFastPathOptions): FastPath {
  const routes = unaryRoutes(opts);
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const route = routes.get(req.url ?? '');
    if (!route) return false;
    const contentType = req.headers['content-type'] ?? '';
    const binary = contentType === 'application/proto' ? true : JSON_TYPE.test(contentType) ? false : undefined;
    if (binary === undefined) return false;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    void serve(route, binary, req, res, opts.readMaxBytes);
    return true;
  };
}

/** The unary methods `routes` register, by request path, each wrapped in the interceptors once. */
function unaryRoutes(opts: UnaryFastPathOptions): Map<string, UnaryRoute> {
  const table = new Map<string, UnaryRoute>();
  const add = (method: DescMethod, impl: unknown) => {
    if (method.methodKind !== 'unary' || typeof impl !== 'function') return;
    const unary = method as DescMethodUnary;
    const fn = impl as UnaryImpl;
    const call = async (req: UnaryRequest): Promise<UnaryResponse> => {
      const ctx = (req as unknown as ContextCarrier).handlerContext;
      const handlerCtx: HandlerContext = { ...ctx, signal: req.signal, requestHeader: req.header, values: req.contextValues };
      const output = await fn(req.message, handlerCtx);
      return {
        stream: false,
        service: unary.parent,
        method: unary,
        header: ctx.responseHeader,
        trailer: ctx.responseTrailer,
        message: isMessage(output, unary.output) ? output : create(unary.output, output as never),
      };
    };
    table.set(`/${unary.parent.typeName}/${unary.name}`, {
      method: unary,
      impl: fn,
      serialization: createMethodSerializationLookup(unary, undefined, undefined, { readMaxBytes: opts.readMaxBytes, writeMaxBytes: Number.MAX_SAFE_INTEGER }),
      invoke: opts.interceptors.reduceRight((next, interceptor) => interceptor(next as never) as never, call),
    });
  };
  const recorder = {
    handlers: [],
    service(service: DescService, impl: Record<string, unknown>) {
      for (const method of service.methods) add(method, (impl[method.localName] as UnaryImpl | undefined)?.bind(impl));
      return recorder;
    },
    rpc(method: DescMethod, impl: unknown) {
      add(method, impl);
      return recorder;
    },
  };
  for (const r of opts.routes) r(recorder as unknown as ConnectRouter);
  return table;
}

interface ContextCarrier {
  handlerContext: HandlerContext;
}

async function serve(route: UnaryRoute, binary: boolean, req: IncomingMessage, res: ServerResponse, readMaxBytes: number): Promise<void> {
  const { method } = route;
  const requestHeader = new LiteHeaders(req.headers);
  const responseHeader = new LiteHeaders({ 'content-type': binary ? 'application/proto' : 'application/json' });
  const responseTrailer = new LiteHeaders();
  const controller = new AbortController();
  let deadline: NodeJS.Timeout | undefined;
  // The client went away before the answer was written: whatever the handler does for it can stop.
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new ConnectError('the client closed the request', Code.Canceled));
  };
  res.once('close', onClose);
  let status = 200;
  let body: Uint8Array;
  try {
    const timeout = parseTimeout(req.headers['connect-timeout-ms'] as string | undefined ?? null, Number.MAX_SAFE_INTEGER);
    if (timeout.error) throw timeout.error;
    const deadlineAt = timeout.timeoutMs === undefined ? undefined : Date.now() + timeout.timeoutMs;
    if (timeout.timeoutMs !== undefined) {
      deadline = setTimeout(() => controller.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded)), timeout.timeoutMs);
    }
    const input = route.serialization.getI(binary).parse(await readBody(req, readMaxBytes));
    const handlerContext: HandlerContext = {
      method,
      service: method.parent,
      requestMethod: 'POST',
      protocolName: 'connect',
      url: `http://${req.headers.host ?? 'localhost'}${req.url}`,
      signal: controller.signal,
      timeoutMs: () => (deadlineAt === undefined ? undefined : deadlineAt - Date.now()),
      requestHeader,
      responseHeader,
      responseTrailer,
      values: createContextValues(),
    };
    const request: UnaryRequest & ContextCarrier = {
      stream: false,
      service: method.parent,
      method,
      requestMethod: 'POST',
      url: handlerContext.url,
      signal: controller.signal,
      header: requestHeader,
      contextValues: handlerContext.values,
      message: input,
      handlerContext,
    };
    const response = await route.invoke(request);
    if (response.header !== responseHeader) response.header.forEach((v, k) => responseHeader.set(k, v));
    if (response.trailer !== responseTrailer) response.trailer.forEach((v, k) => responseTrailer.set(k, v));
    body = route.serialization.getO(binary).serialize(response.message);
  } catch (err) {
    const error = err instanceof ConnectError ? err : new ConnectError('internal error', Code.Internal, undefined, undefined, err);
    status = codeToHttpStatus(error.code);
    responseHeader.set('content-type', 'application/json');
    error.metadata.forEach((value, key) => responseHeader.set(key, value));
    body = errorJson(error);
  } finally {
    clearTimeout(deadline);
  }
  if (res.destroyed) return;
  const headers: Record<string, string | number> = { ...responseHeader.record(), 'content-length': body.byteLength };
  for (const [name, value] of Object.entries(responseTrailer.record())) headers[`trailer-${name}`] = value;
  res.writeHead(status, headers);
  res.end(body);
}

/** The error as Connect's JSON; a detail that can't be serialized must not cost the caller the error. */
function errorJson(error: ConnectError): Uint8Array {
  try {
    return errorToJsonBytes(error, {});
  } catch {
    return errorToJsonBytes(new ConnectError(error.rawMessage, error.code), {});
  }
}

/** The request body, or RESOURCE_EXHAUSTED past `readMaxBytes` (checked on the declared length first). */
function readBody(req: IncomingMessage, readMaxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > readMaxBytes) {
    req.resume();
    return Promise.reject(tooLarge(declared, readMaxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > readMaxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(length, readMaxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
    req.once('error', (err) => reject(new ConnectError(`cannot read the request: ${err.message}`, Code.Canceled)));
  });
}

function tooLarge(bytes: number, readMaxBytes: number): ConnectError {
  return new ConnectError(`message size ${bytes} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
}
