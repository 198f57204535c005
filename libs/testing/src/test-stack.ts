import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { newSigningKey } from '@parley/platform';
import { SERVICES, startStack, type RunningStack, type ServiceName, type StackOptions } from '@parley/stack';
import { TestIsolation } from './isolation.js';
import { TEST_CLIENT_ADDRESS_SECRET, TEST_NATS_URL } from './run-id.js';

export interface TestStack extends RunningStack {
  readonly isolation: TestIsolation;
  readonly natsUrl: string;
  /** Runs SQL in a service's own database. Tests may look; services never do. */
  query<T = Record<string, unknown>>(service: ServiceName, sql: string, params?: unknown[]): Promise<T[]>;
  /** The service's Prometheus exposition. */
  metrics(service: ServiceName): Promise<string>;
  /** Media's MEDIA_FILE_DIR (unless the test chose another). */
  readonly mediaDir: string;
  /** Stops the services, drops the run's databases and deletes its stream and media's files. */
  cleanup(): Promise<void>;
}

export interface TestStackOptions {
  services?: readonly ServiceName[];
  natsUrl?: string;
  /** A PostgreSQL server of the test's own (e.g. startThrowawayPostgres's); the shared one by default. */
  pgUrl?: string;
  env?: StackOptions['env'];
  /** Print service output (set PARLEY_TEST_LOGS=1 to see it for every stack). */
  verbose?: boolean;
  /** Sees every line the services print, e.g. to count errors. */
  onLine?: StackOptions['onLine'];
  /** How long each service may take to report SERVING (the launcher's default otherwise). */
  startTimeoutMs?: number;
}

/**
 * How long each service may take to answer SERVING. A service starts in about a second on an idle
 * box, but on a shared 2-core box under a load average of 30 one took over a minute, so the test
 * stack waits this long (the e2e suite's hook timeout covers it).
 */
export const TEST_STACK_START_MS = 180_000;

/** Boots real service processes against the real PostgreSQL and NATS, isolated to this run. */
export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const isolation = new TestIsolation(opts.pgUrl);
  const natsUrl = opts.natsUrl ?? TEST_NATS_URL;
  const verbose = opts.verbose ?? process.env.PARLEY_TEST_LOGS === '1';
  // Media's file provider writes under a directory of this run's own, removed at cleanup.
  const mediaDir = mkdtempSync(join(tmpdir(), `parley-media-${isolation.runId}-`));
  // Registered before start-up, so a failed start still drops what the services created.
  for (const { name } of SERVICES.filter((s) => s.database && (opts.services ?? [s.name]).includes(s.name))) isolation.database(name);
  const stack = await startStack({
    pgUrl: isolation.pgUrl,
    natsUrl,
    dbPrefix: `parley_${isolation.runId}`,
    eventPrefix: isolation.eventPrefix,
    signingKey: newSigningKey(),
    clientAddressSecret: TEST_CLIENT_ADDRESS_SECRET,
    httpPort: 0,
    services: opts.services,
    startTimeoutMs: opts.startTimeoutMs ?? TEST_STACK_START_MS,
    env: {
      ...opts.env,
      // Every test registers its accounts from one address (loopback): that limit is lifted unless a test sets it.
      auth: { REGISTRATIONS_PER_ADDRESS: '1000000', ...opts.env?.auth },
      media: { MEDIA_FILE_DIR: mediaDir, ...opts.env?.media },
      all: { LOG_LEVEL: verbose ? 'debug' : 'warn', SHUTDOWN_GRACE_SECONDS: '5', ...opts.env?.all },
    },
    onLine: (name, line) => {
      if (verbose) process.stdout.write(`${name} | ${line}\n`);
      opts.onLine?.(name, line);
    },
  }).catch(async (err) => {
    await isolation.cleanup([natsUrl]).catch(() => undefined);
    rmSync(mediaDir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...stack,
    isolation,
    natsUrl,
    mediaDir,
    query: (service, sql, params) => isolation.query(stack.databaseName(service), sql, params),
    async metrics(service) {
      const res = await fetch(`http://127.0.0.1:${stack.services[service].metricsPort}/metrics`);
      return res.text();
    },
    async cleanup() {
      await stack.stop();
      await isolation.cleanup([natsUrl]);
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}

export interface EdgeClientOptions {
  accessToken?: string;
  /** Connect (JSON by default, or binary), or gRPC-Web. */
  protocol?: 'connect-json' | 'connect-binary' | 'grpc-web';
}

/** A real Connect client of the edge, as an app would use it. */
export function edgeClient<S extends DescService>(service: S, edgeUrl: string, opts: EdgeClientOptions = {}): Client<S> {
  const auth: Interceptor = (next) => (req) => {
    if (opts.accessToken) req.header.set('authorization', `Bearer ${opts.accessToken}`);
    return next(req);
  };
  const common = { baseUrl: edgeUrl, httpVersion: '1.1' as const, interceptors: [auth] };
  const transport =
    opts.protocol === 'grpc-web'
      ? createGrpcWebTransport({ ...common, useBinaryFormat: true })
      : createConnectTransport({ ...common, useBinaryFormat: opts.protocol === 'connect-binary' });
  return createClient(service, transport);
}

/** A gRPC client straight to one of the stack's services, past the edge, as another service calls it. */
export function serviceClient<S extends DescService>(service: S, stack: Pick<RunningStack, 'services'>, name: ServiceName): Client<S> {
  return createClient(service, createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services[name].rpcPort}` }));
}

/** Reads one sample from a Prometheus exposition, e.g. metricValue(text, 'x_total', {a: 'b'}). */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').pop());
  }
  return total;
}

/** Polls `probe` until it returns a value that satisfies `done`, or fails with the last value seen. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
