// pgbench as a baseline: the rate and latencies of a custom INSERT script on the stack's own
// PostgreSQL, in a scratch database of the run (dropped with the stack).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { databaseUrl } from '@parley/stack';
import pg from 'pg';
import { summarize } from './measure.mjs';

const PGBENCH = ['/usr/lib/postgresql/15/bin/pgbench', 'pgbench'];

/** A fresh scratch database of the stack's run, with one table `t` to insert into. */
export async function scratchDatabase(stack, purpose) {
  const name = stack.isolation.database(purpose);
  const admin = new pg.Client({ connectionString: stack.isolation.pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = databaseUrl(stack.isolation.pgUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE t (id bigserial PRIMARY KEY, v bigint NOT NULL, body bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  await client.end();
  return url;
}

/**
 * Runs `script` (one transaction) with `clients` connections for `seconds`, at most `rate` per
 * second when given. Returns {perSecond, p50, p99} from pgbench's per-transaction log, in ms.
 */
export async function pgbench(url, script, { clients, seconds, rate }) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-pgbench-'));
  try {
    writeFileSync(join(dir, 'script.sql'), script);
    const args = ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', join(dir, 'script.sql'), '-l', `--log-prefix=${join(dir, 'log')}`];
    if (rate) args.push('-R', String(rate));
    const { stdout } = await runPgbench([...args, url]);
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    // Each log line: client_id transaction_no time_us script_no epoch epoch_us [schedule_lag_us]
    const latencies = readdirSync(dir)
      .filter((f) => f.startsWith('log'))
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'))
      .map((line) => Number(line.split(' ')[2]) / 1000);
    return { ...summarize(latencies, seconds), perSecond: tps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runPgbench(args) {
  for (const bin of PGBENCH) {
    try {
      return await promisify(execFile)(bin, args, { maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`pgbench not found (tried ${PGBENCH.join(', ')})`);
}
