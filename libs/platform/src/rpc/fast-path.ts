import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { create, isMessage, type DescMessage, type DescMethod, type DescMethodServerStreaming, type DescMethodUnary } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextValues,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import { createMethodSerializationLookup, type MethodSerializationLookup } from '@connectrpc/connect/protocol';
import { parseContentType, parseTimeout } from '@connectrpc/connect/protocol-connect';
import { invalidInput } from './invalid-input.js';
import { LiteHeaders } from './lite-headers.js';
import { setRequestCloser } from './request-closer.js';
import { relayRoute, type UnaryRelay } from './fast-path-relay.js';
import { serveStream } from './fast-path-stream.js';
import { serveUnary } from './fast-path-unary.js';
import { RELAY_PATH, serveRelayBatch } from './relay-batch.js';

type Routes = (router: ConnectRouter) => void;
type Impl = (req: unknown, ctx: HandlerContext) => unknown;

/** A method the fast path serves: its implementation behind the interceptor chain, built once. */
export interface FastRoute {
  method: DescMethodUnary | DescMethodServerStreaming;
  serialization: MethodSerializationLookup<DescMessage, DescMessage>;
  invoke(req: UnaryRequest | StreamRequest): Promise<UnaryResponse | StreamResponse>;
  /** A relay's route: the request's bytes go on undecoded (fast-path-relay.ts). */
  relayed?: boolean;
}

export interface FastPathOptions {
  routes: Routes[];
  /** Unary methods served by relays rather than by `routes` (which may still serve them over other protocols). */
  relays?: readonly UnaryRelay[];
  /** Serve batches of relayed calls (RelayService) to `routes`: internal servers only. */
  relayBatches?: boolean;
  interceptors: readonly Interceptor[];
  readMaxBytes: number;
}

/** Serves a request, or returns false to leave it to connect-node. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The Connect protocol over HTTP/1.1 for unary and server-streaming calls (binary or JSON,
 * uncompressed), which is every hot call and every Subscribe stream, served without
 * connect-node's general pipeline: its async iterables, fetch Headers, and an AbortController
 * with a DOMException per call cost several times a small call itself, and hold tens of kB per
 * open stream. The same routes and the same interceptor chain run, and the wire format is
 * Connect's own (its serialization, timeout parsing, error and end-stream JSON are used), so a
 * client can't tell which path served it. Everything else (client streams, gRPC, gRPC-Web, GET,
 * compression) returns false.
 */
export function connectFastPath(opts: FastPathOptions): FastPath {
  const routes = recordRoutes(opts);
  return (req, res) => {
    if (req.method !== 'POST') return false;
    if (opts.relayBatches && req.url === RELAY_PATH && req.headers['content-type'] === 'application/proto') {
      void serveRelayBatch(routes, req, res, opts.readMaxBytes);
      return true;
    }
    const route = routes.get(req.url ?? '');
    if (!route) return false;
    const type = parseContentType(req.headers['content-type'] ?? null);
    if (!type || type.stream !== (route.method.methodKind === 'server_streaming')) return false;
    const encoding = req.headers[type.stream ? 'connect-content-encoding' : 'content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    void (type.stream ? serveStream : serveUnary)(route, type.binary, req, res, opts.readMaxBytes);
    return true;
  };
}

/** The unary and server-streaming methods `routes` register, and the relays, by request path. */
function recordRoutes(opts: FastPathOptions): Map<string, FastRoute> {
  const table = new Map<string, FastRoute>();
  const serializationOf = (method: DescMethod) =>
    createMethodSerializationLookup(method as DescMethodUnary, undefined, undefined, { readMaxBytes: opts.readMaxBytes, writeMaxBytes: Number.MAX_SAFE_INTEGER });
  const wrap = (call: FastRoute['invoke']): FastRoute['invoke'] => opts.interceptors.reduceRight((next, interceptor) => interceptor(next as never) as never, call);
  const pathOf = (method: DescMethod) => `/${method.parent.typeName}/${method.name}`;
  for (const relay of opts.relays ?? []) table.set(pathOf(relay.method), relayRoute(relay, serializationOf(relay.method), wrap));
  const add = (method: DescMethod, impl: Impl | undefined) => {
    if (typeof impl !== 'function' || (method.methodKind !== 'unary' && method.methodKind !== 'server_streaming')) return;
    // A relay serves its method.
    if (table.has(pathOf(method))) return;
    const call = async (req: UnaryRequest | StreamRequest): Promise<UnaryResponse | StreamResponse> => {
      const ctx = (req as unknown as CallCarrier).call.handlerContext;
      const handlerCtx: HandlerContext = { ...ctx, signal: req.signal, requestHeader: req.header, values: req.contextValues };
      const common = { service: method.parent, header: ctx.responseHeader, trailer: ctx.responseTrailer };
      if (req.stream) {
        const input = await firstOf(req.message);
        return { ...common, stream: true, method: method as DescMethodServerStreaming, message: normalized(method.output, impl(input, handlerCtx) as AsyncIterable<unknown>) };
      }
      return { ...common, stream: false, method: method as DescMethodUnary, message: asMessage(method.output, await impl(req.message, handlerCtx)) };
    };
    table.set(pathOf(method), { method: method as FastRoute['method'], serialization: serializationOf(method), invoke: wrap(call) });
  };
  const recorder = {
    handlers: [],
    service(service: { methods: DescMethod[] }, impl: Record<string, Impl | undefined>) {
      for (const method of service.methods) add(method, impl[method.localName]?.bind(impl));
      return recorder;
    },
    rpc(method: DescMethod, impl: Impl) {
      add(method, impl);
      return recorder;
    },
  };
  for (const r of opts.routes) r(recorder as unknown as ConnectRouter);
  return table;
}

function asMessage(desc: DescMessage, value: unknown) {
  return isMessage(value, desc) ? value : create(desc, value as never);
}

async function* normalized(desc: DescMessage, values: AsyncIterable<unknown>) {
  for await (const value of values) yield asMessage(desc, value);
}

async function firstOf<T>(values: AsyncIterable<T>): Promise<T> {
  for await (const value of values) return value;
  throw new ConnectError('protocol error: missing input message for server-streaming method', Code.InvalidArgument);
}

/** What the fast path hands its interceptors besides the request: the handler's context. */
export interface CallCarrier {
  call: Call;
}

/** One call's context and its end: a client gone, a deadline passed. */
export interface Call {
  handlerContext: HandlerContext;
  responseHeader: LiteHeaders;
  responseTrailer: LiteHeaders;
  /** Stops the deadline timer. */
  done(): void;
}

/** Where a call comes from: an HTTP request of its own, or one call of a relayed batch (fast-path-relay.ts). */
export interface CallSource {
  /** Its headers, names in lowercase. */
  headers: IncomingHttpHeaders;
  /** The request's path, e.g. /parley.auth.v1.AuthService/GetMe. */
  path: string;
  /** Runs `abort` if the caller goes away before the answer is written. */
  onGone(abort: () => void): void;
  /** Closes the request, cutting its connection (a request of its own only). */
  close?(): void;
}

export function sourceOf(req: IncomingMessage, res: ServerResponse): CallSource {
  return {
    headers: req.headers,
    path: req.url ?? '',
    onGone: (abort) =>
      res.once('close', () => {
        if (!res.writableFinished) abort();
      }),
    close: () => res.destroy(),
  };
}

/**
 * The context of a call at `route`: the handler's signal aborts when the client goes away before
 * the answer is written, or at the deadline the client sent (`connect-timeout-ms`, parsed as
 * connect-node does; a malformed one throws).
 */
export function openCall(route: FastRoute, source: CallSource, contentType: string): Call {
  const responseHeader = new LiteHeaders({ 'content-type': contentType });
  const responseTrailer = new LiteHeaders();
  const controller = new AbortController();
  source.onGone(() => controller.abort(new ConnectError('the client closed the request', Code.Canceled)));
  const timeout = parseTimeout((source.headers['connect-timeout-ms'] as string | undefined) ?? null, Number.MAX_SAFE_INTEGER);
  if (timeout.error) throw timeout.error;
  const deadlineAt = timeout.timeoutMs === undefined ? undefined : Date.now() + timeout.timeoutMs;
  const deadline =
    timeout.timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded)), timeout.timeoutMs);
  const { method } = route;
  const values = createContextValues();
  if (method.methodKind === 'server_streaming' && source.close) setRequestCloser(values, source.close);
  return {
    responseHeader,
    responseTrailer,
    done: () => clearTimeout(deadline),
    handlerContext: {
      method,
      service: method.parent,
      requestMethod: 'POST',
      protocolName: 'connect',
      url: `http://${source.headers.host ?? 'localhost'}${source.path}`,
      signal: controller.signal,
      timeoutMs: () => (deadlineAt === undefined ? undefined : deadlineAt - Date.now()),
      requestHeader: new LiteHeaders(source.headers),
      responseHeader,
      responseTrailer,
      values,
    },
  };
}

/** The request the interceptors see, carrying the call. */
export function requestOf<M>(call: Call, stream: boolean, message: M): (UnaryRequest | StreamRequest) & CallCarrier {
  const ctx = call.handlerContext;
  const common = { service: ctx.service, requestMethod: 'POST', url: ctx.url, signal: ctx.signal, header: ctx.requestHeader, contextValues: ctx.values, call };
  return (stream ? { ...common, stream: true, method: ctx.method, message } : { ...common, stream: false, method: ctx.method, message }) as never;
}

/** The request body, or RESOURCE_EXHAUSTED past `readMaxBytes` (checked on the declared length first). */
export function readBody(req: IncomingMessage, readMaxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > readMaxBytes) {
    req.resume();
    return Promise.reject(bodyTooLarge(declared, readMaxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > readMaxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(bodyTooLarge(length, readMaxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
    req.once('error', (err) => reject(new ConnectError(`cannot read the request: ${err.message}`, Code.Canceled)));
  });
}

const bodiesTooLarge = new WeakSet<ConnectError>();

/**
 * A request body past readMaxBytes, however it came (declared or chunked): RESOURCE_EXHAUSTED,
 * which a unary call answers with HTTP 413 rather than the code's usual 429, since waiting won't help.
 * (Marked in a set: ConnectError's instanceof matches any ConnectError, so a subclass can't tell.)
 */
function bodyTooLarge(bytes: number, readMaxBytes: number): ConnectError {
  const error = new ConnectError(`request body of ${bytes} bytes or more is larger than the limit of ${readMaxBytes} bytes: send less`, Code.ResourceExhausted);
  bodiesTooLarge.add(error);
  return error;
}

export function isBodyTooLarge(error: ConnectError): boolean {
  return bodiesTooLarge.has(error);
}

/**
 * What a call that failed answers: malformed input (a body that doesn't parse, a bad envelope)
 * as INVALID_ARGUMENT; anything a handler throws that is not a ConnectError as connect-node words it.
 */
export function asConnectError(err: unknown): ConnectError {
  return invalidInput(err) ?? (err instanceof ConnectError ? err : new ConnectError('internal error', Code.Internal, undefined, undefined, err));
}

/** Headers for writeHead: the handler's headers, and its trailers as `trailer-` headers when they travel in the head. */
export function headRecord(header: LiteHeaders, trailer?: LiteHeaders): Record<string, string> {
  const head: Record<string, string> = { ...header.record() };
  if (trailer) for (const [name, value] of Object.entries(trailer.record())) head[`trailer-${name}`] = value;
  return head;
}
