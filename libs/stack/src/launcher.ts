import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';
import { grpcHealthCheck } from './health-check.js';
import { databaseUrl } from './infra.js';
import { newLogSigningKey } from './log-signing-key.js';
import { SERVICES, type ServiceName } from './services.js';

export const REPO_ROOT = resolve(__dirname, '../../..');

export interface StackOptions {
  /** A URL of the PostgreSQL server; each service gets its own database on it. */
  pgUrl: string;
  natsUrl: string;
  /** Databases are named `<dbPrefix>_<service>`. */
  dbPrefix: string;
  eventPrefix: string;
  signingKey: string;
  /** Every service's CLIENT_ADDRESS_SECRET; a fresh one when absent. */
  clientAddressSecret?: string;
  /** keys' KEYS_LOG_SIGNING_KEY; a fresh one when absent. */
  logSigningKey?: string;
  /** The edge's public port; 0 picks a free one. */
  httpPort: number;
  services?: readonly ServiceName[];
  /** Extra variables: `all` for every service, or per service. */
  env?: Partial<Record<ServiceName | 'all', Record<string, string>>>;
  /** Where service output goes, a line at a time. */
  onLine?: (service: ServiceName, line: string) => void;
  startTimeoutMs?: number;
}

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly rpcPort: number;
  readonly metricsPort: number;
  readonly env: Record<string, string>;
  readonly pid: number | undefined;
  /** The last lines it printed, for diagnosing a failed start. */
  readonly output: string[];
  /** Starts it (again), with `changes` to its settings from then on, as a restart with a new configuration. */
  start(changes?: Record<string, string>): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill9(): Promise<void>;
  waitHealthy(timeoutMs?: number): Promise<void>;
}

export interface RunningStack {
  readonly edgeUrl: string;
  readonly services: Record<ServiceName, ServiceProcess>;
  databaseName(service: ServiceName): string;
  /**
   * Starts another process of a running service with the same settings on ports of its own, as
   * a second replica would run; stopped with the stack. For the edge, `url` is its public URL.
   * `env` overrides some of those settings.
   */
  startReplica(name: ServiceName, env?: Record<string, string>): Promise<{ process: ServiceProcess; url: string }>;
  stop(): Promise<void>;
}

function serviceProcess(name: ServiceName, rpcPort: number, metricsPort: number, env: Record<string, string>, opts: StackOptions): ServiceProcess {
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const exited = () => !child || child.exitCode !== null || child.signalCode !== null;
  const self: ServiceProcess = {
    name,
    rpcPort,
    metricsPort,
    env,
    output,
    get pid() {
      return child?.pid;
    },
    async start(changes = {}) {
      Object.assign(env, changes);
      child = spawn(process.execPath, [join(REPO_ROOT, 'services', name, 'dist/main.js')], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let partial = '';
      const onData = (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          output.push(line);
          if (output.length > 200) output.shift();
          opts.onLine?.(name, line);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      await self.waitHealthy(opts.startTimeoutMs);
    },
    async waitHealthy(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exited()) throw new Error(`${name} exited during start-up:\n${output.slice(-20).join('\n')}`);
        const status = await grpcHealthCheck(`127.0.0.1:${rpcPort}`, '', 1000).catch(() => 'UNREACHABLE');
        if (status === 'SERVING') return;
        if (Date.now() > deadline) throw new Error(`${name} not healthy after ${timeoutMs} ms (${status}):\n${output.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(graceMs = 15_000) {
      const c = child;
      if (!c || exited()) return c?.exitCode ?? null;
      return new Promise((resolveExit) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
        c.once('exit', (code) => {
          clearTimeout(timer);
          resolveExit(code);
        });
        c.kill('SIGTERM');
      });
    },
    async kill9() {
      const c = child;
      if (!c || exited()) return;
      await new Promise<void>((r) => {
        c.once('exit', () => r());
        c.kill('SIGKILL');
      });
    },
  };
  return self;
}

/** Starts the services as real processes and waits until each answers SERVING to a gRPC health check. */
export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const names = opts.services ?? SERVICES.map((s) => s.name);
  const ports = new Map<ServiceName, { rpc: number; metrics: number }>();
  for (const name of names) ports.set(name, { rpc: await freePort(), metrics: await freePort() });
  const httpPort = opts.httpPort || (await freePort());
  // Media serves tus uploads and downloads over plain HTTP too; only the edge talks to it.
  const mediaHttpPort = await freePort();
  // Every service learns every other's internal URL as <NAME>_URL, e.g. AUTH_URL, MESSAGING_URL.
  const serviceUrls = Object.fromEntries(SERVICES.map(({ name }) => [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${ports.get(name)?.rpc ?? 0}`]));
  const databaseName = (service: ServiceName) => `${opts.dbPrefix}_${service}`;
  const logSigningKey = opts.logSigningKey ?? newLogSigningKey();
  const clientAddressSecret = opts.clientAddressSecret ?? randomBytes(32).toString('hex');
  // One franking keyring per stack: messaging makes reporting tags with it, moderation verifies them.
  const franking = { FRANKING_KEYS: `stack:${randomBytes(32).toString('base64')}`, FRANKING_ACTIVE_KEY_ID: 'stack' };

  const processes = {} as Record<ServiceName, ServiceProcess>;
  for (const { name, database } of SERVICES.filter((s) => names.includes(s.name))) {
    const { rpc, metrics } = ports.get(name)!;
    const env: Record<string, string> = {
      RPC_PORT: String(rpc),
      // Internal RPC has no transport authentication: on a developer's machine, loopback only.
      RPC_HOST: '127.0.0.1',
      CLIENT_ADDRESS_SECRET: clientAddressSecret,
      METRICS_PORT: String(metrics),
      NATS_URL: opts.natsUrl,
      EVENT_PREFIX: opts.eventPrefix,
      ...serviceUrls,
      ...(database ? { DATABASE_URL: databaseUrl(opts.pgUrl, databaseName(name)), DATABASE_CREATE_IF_MISSING: 'true' } : {}),
      ...(name === 'auth' ? { AUTH_SIGNING_KEY: opts.signingKey } : {}),
      ...(name === 'keys' ? { KEYS_LOG_SIGNING_KEY: logSigningKey } : {}),
      ...(name === 'edge' ? { HTTP_PORT: String(httpPort), MEDIA_HTTP_URL: `http://127.0.0.1:${mediaHttpPort}` } : {}),
      ...(name === 'media' ? { MEDIA_HTTP_PORT: String(mediaHttpPort) } : {}),
      ...(name === 'messaging' || name === 'moderation' ? franking : {}),
      ...opts.env?.all,
      ...opts.env?.[name],
    };
    processes[name] = serviceProcess(name, rpc, metrics, env, opts);
  }
  const replicas: ServiceProcess[] = [];
  const everyProcess = () => [...Object.values(processes), ...replicas];
  // If this process goes away without stopping the stack, take the services with it.
  const killOnExit = () => everyProcess().forEach((p) => p.kill9());
  process.once('exit', killOnExit);
  const stopAll = async () => {
    await Promise.all(everyProcess().map((p) => p.stop()));
    process.removeListener('exit', killOnExit);
  };
  try {
    await Promise.all(Object.values(processes).map((p) => p.start()));
  } catch (err) {
    await stopAll();
    throw err;
  }
  async function startReplica(name: ServiceName, overrides: Record<string, string> = {}) {
    const [rpc, metrics, http] = [await freePort(), await freePort(), await freePort()];
    const env = { ...processes[name].env, ...overrides, RPC_PORT: String(rpc), METRICS_PORT: String(metrics), ...(name === 'edge' ? { HTTP_PORT: String(http) } : {}) };
    const replica = serviceProcess(name, rpc, metrics, env, opts);
    replicas.push(replica);
    await replica.start();
    return { process: replica, url: name === 'edge' ? `http://127.0.0.1:${http}` : `http://127.0.0.1:${rpc}` };
  }
  return { edgeUrl: `http://127.0.0.1:${httpPort}`, services: processes, databaseName, startReplica, stop: stopAll };
}
