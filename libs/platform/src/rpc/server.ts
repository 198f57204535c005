import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { createContextValues, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import { invalidInputOfStreams, mappingInvalidInput } from './connect-node-errors.js';
import type { UnaryRelay } from './fast-path-relay.js';
import { connectFastPath } from './fast-path.js';
import { setRequestCloser } from './request-closer.js';

export type { UnaryRelay };

type NodeHandlerFn = NonNullable<ConnectNodeAdapterOptions['fallback']>;

export type Routes = (router: ConnectRouter) => void;

export interface RunningServer {
  readonly port: number;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

export interface RpcServerOptions {
  port: number;
  host?: string;
  routes: Routes[];
  /** Unary methods another server answers: over Connect unary, their bytes are relayed undecoded. */
  relays?: readonly UnaryRelay[];
  interceptors: readonly Interceptor[];
  readMaxBytes?: number;
}

const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

/** connect-node with `opts`' routes and chain, its answers to malformed input mapped as the fast path maps them. */
export function connectNodeHandler(opts: RpcServerOptions, fallback?: NodeHandlerFn): NodeHandlerFn {
  return connectNodeAdapter({
    routes: (router) => {
      opts.routes.forEach((r) => r(router));
      mappingInvalidInput(router);
    },
    interceptors: [...opts.interceptors, invalidInputOfStreams],
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    // An HTTP/1.1 request's own destroy() leaves the socket open once its body was read; an HTTP/2 stream closes alone.
    contextValues: (req) =>
      setRequestCloser(createContextValues(), () => ('stream' in req ? req.stream.close(http2.constants.NGHTTP2_CANCEL) : req.socket.destroy())),
    ...(fallback ? { fallback } : {}),
  });
}

/** An HTTP/1.1 handler: Connect unary and server-streaming calls on the fast path, everything else through connect-node. */
function http1Handler(opts: RpcServerOptions, fallback?: NodeHandlerFn, relayBatches = false): http.RequestListener {
  const rpc = connectNodeHandler(opts, fallback);
  const fast = connectFastPath({
    routes: opts.routes,
    relays: opts.relays,
    relayBatches,
    interceptors: opts.interceptors,
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
  });
  return (req, res) => {
    if (!fast(req, res)) rpc(req, res);
  };
}

const SNIFF_TIMEOUT_MS = 10_000;

/**
 * Internal RPC server, on one port: gRPC (and anything connect-node serves) over HTTP/2 cleartext,
 * for health probes and plain gRPC peers, and the Connect protocol over HTTP/1.1, which the
 * services' own clients use because it costs a fraction of HTTP/2's CPU per call. A connection's
 * first bytes tell which: HTTP/2 with prior knowledge opens with "PRI * HTTP/2.0".
 */
export async function startRpcServer(opts: RpcServerOptions): Promise<RunningServer> {
  const h2 = http2.createServer(connectNodeHandler(opts));
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  // Other services' relays may send this one batches of relayed calls (RelayService); the public server takes none.
  const h1 = http.createServer({ keepAliveTimeout: INTERNAL_KEEP_ALIVE_MS }, http1Handler(opts, undefined, true));
  const calls = new CallsPerSocket(h1);
  const server = net.createServer((socket) =>
    sniff(socket, (isHttp2) => {
      if (!isHttp2) calls.track(socket);
      (isHttp2 ? h2 : h1).emit('connection', socket);
    }),
  );
  const port = await listen(server, opts.port, opts.host);
  return {
    port,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY: clients stop opening streams here; open streams run to completion.
      for (const s of sessions) s.close();
      // HTTP/1.1 connections close as soon as they have no call in flight.
      calls.drain();
      const cut = setTimeout(() => {
        sessions.forEach((s) => s.destroy());
        calls.destroyAll();
      }, graceMs);
      await closed;
      clearTimeout(cut);
    },
  };
}

/**
 * The calls in flight on each HTTP/1.1 connection of a server that never listens itself (the
 * sniffer hands it its connections), so Node's own connection tracking is not there to drain it.
 */
class CallsPerSocket {
  private readonly inFlight = new Map<Socket, number>();
  private draining = false;

  constructor(server: http.Server) {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
      res.once('close', () => {
        const left = (this.inFlight.get(socket) ?? 1) - 1;
        if (!this.inFlight.has(socket)) return;
        this.inFlight.set(socket, left);
        if (left === 0 && this.draining) socket.end();
      });
    });
  }

  track(socket: Socket): void {
    this.inFlight.set(socket, 0);
    socket.once('close', () => this.inFlight.delete(socket));
  }

  /** Ends idle connections now, busy ones after their call. */
  drain(): void {
    this.draining = true;
    for (const [socket, n] of this.inFlight) if (n === 0) socket.end();
  }

  destroyAll(): void {
    for (const socket of this.inFlight.keys()) socket.destroy();
  }
}

/** Idle keep-alive connections between services stay open this long (the client's agent reuses them). */
const INTERNAL_KEEP_ALIVE_MS = 65_000;

/** Waits for a connection's first three bytes, puts them back, and says whether it speaks HTTP/2. */
function sniff(socket: Socket, dispatch: (isHttp2: boolean) => void): void {
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
  const onReadable = () => {
    const head = socket.read(3) as Buffer | null;
    if (head === null) return;
    socket.off('readable', onReadable);
    socket.setTimeout(0);
    socket.unshift(head);
    dispatch(head.toString('latin1') === 'PRI');
  };
  socket.on('readable', onReadable);
  socket.once('end', () => socket.destroy());
}

/** How long a public server's clients may take, and how many connections it holds. */
export interface HttpConnectionLimits {
  /** To send a request's headers. */
  headersTimeoutMs: number;
  /** To send a whole request (headers and body); a streamed answer is not counted. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection stays open this long. */
  keepAliveTimeoutMs: number;
  /** Connections past this many are closed as they arrive. */
  maxConnections: number;
}

/** Node's defaults, but for the connection cap: a lone public server with its own settings should pass them. */
const DEFAULT_CONNECTION_LIMITS: HttpConnectionLimits = { headersTimeoutMs: 60_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 65_000, maxConnections: Infinity };

/** How often Node looks for requests past their header or request timeout (its default is 30 s). */
const TIMEOUT_CHECK_MS = 1000;

export interface HttpServerOptions extends RpcServerOptions {
  connections?: HttpConnectionLimits;
  /** Answers what the RPC routes don't, e.g. unknown paths. */
  fallback?: http.RequestListener;
  /** Runs before routing, e.g. for CORS headers; returns true when it answered the request itself. */
  before?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

/** Public server: Connect, gRPC-Web and Connect-JSON over HTTP/1.1, as browsers and curl speak. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningServer> {
  // An HTTP/1.1 server only ever hands the adapter (and so the fallback) HTTP/1.1 requests.
  const rpc = http1Handler(opts, opts.fallback as NodeHandlerFn | undefined);
  const limits = opts.connections ?? DEFAULT_CONNECTION_LIMITS;
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, limits.headersTimeoutMs),
    },
    (req, res) => {
      if (opts.before?.(req, res)) return;
      rpc(req, res);
    },
  );
  if (Number.isFinite(limits.maxConnections)) server.maxConnections = limits.maxConnections;
  const port = await listen(server, opts.port, opts.host);
  return {
    port,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A keep-alive connection that finishes its call stays open: close each as it goes idle.
      const reap = setInterval(() => server.closeIdleConnections(), 50);
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearInterval(reap);
      clearTimeout(cut);
    },
  };
}

function listen(server: net.Server, port: number, host = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
