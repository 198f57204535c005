import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { freePort, tcpReachable } from './free-port.js';

/** Whether a PostgreSQL server answers at `url` (any database on it). */
export async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function natsReachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return tcpReachable(u.hostname, Number(u.port || 4222));
}

/** `url` with its database replaced. */
export function databaseUrl(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function dropDatabases(serverUrl: string, names: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    for (const name of names) await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}

export function natsServerInstalled(): boolean {
  return spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export const NATS_INSTALL_HINT = [
  'nats-server is not installed and no NATS answers at NATS_URL.',
  'Install it, then run this again:',
  '  Debian/Ubuntu: sudo apt-get install -y nats-server',
  '  macOS:         brew install nats-server',
  '  Other:         https://docs.nats.io/running-a-nats-service/introduction/installation',
  'Or point NATS_URL at a NATS server with JetStream enabled.',
].join('\n');

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port and store, as a restarted server would come back. */
  restart(): Promise<void>;
}

/** A nats-server with JetStream on its own port and store directory, for dev or a fault test. */
export async function startNatsServer(opts: { storeDir: string; port?: number; host?: string }): Promise<NatsServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port || (await freePort());
  mkdirSync(opts.storeDir, { recursive: true });
  let child: ChildProcess | undefined;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const start = async () => {
    if (running()) return;
    child = spawn('nats-server', ['-js', '-a', host, '-p', String(port), '-sd', opts.storeDir], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await tcpReachable(host, port, 200))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${host}:${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || !running()) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return { url: `nats://${host}:${port}`, port, stop, restart: start };
}
