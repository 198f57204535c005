import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from '@connectrpc/connect-node';

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
  interceptors: readonly Interceptor[];
  readMaxBytes?: number;
}

const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

function adapter(opts: RpcServerOptions, fallback?: NodeHandlerFn) {
  return connectNodeAdapter({
    routes: (router) => opts.routes.forEach((r) => r(router)),
    interceptors: [...opts.interceptors],
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    ...(fallback ? { fallback } : {}),
  });
}


/** Internal RPC server: gRPC (and Connect) over HTTP/2 cleartext. */
export async function startRpcServer(opts: RpcServerOptions): Promise<RunningServer> {
  const server = http2.createServer(adapter(opts));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const port = await listen(server, opts.port, opts.host);
  return {
    port,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY: clients stop opening streams here; open streams run to completion.
      for (const s of sessions) s.close();
      const cut = setTimeout(() => sessions.forEach((s) => s.destroy()), graceMs);
      await closed;
      clearTimeout(cut);
    },
  };
}

export interface HttpServerOptions extends RpcServerOptions {
  /** Answers what the RPC routes don't, e.g. unknown paths. */
  fallback?: http.RequestListener;
  /** Runs before routing, e.g. for CORS headers; returns true when it answered the request itself. */
  before?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

/** Public server: Connect, gRPC-Web and Connect-JSON over HTTP/1.1, as browsers and curl speak. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningServer> {
  // An HTTP/1.1 server only ever hands the adapter (and so the fallback) HTTP/1.1 requests.
  const rpc = adapter(opts, opts.fallback as NodeHandlerFn | undefined);
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (opts.before?.(req, res)) return;
    rpc(req, res);
  });
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

function listen(server: http.Server | http2.Http2Server, port: number, host = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
