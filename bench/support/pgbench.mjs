// pgbench as a baseline: the rate and latencies of a custom script on the stack's own PostgreSQL,
// in a scratch database of the run (dropped with the stack).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { databaseUrl } from '@parley/stack';
import pg from 'pg';
import { combine, summarize } from './measure.mjs';

const PGBENCH = ['/usr/lib/postgresql/15/bin/pgbench', 'pgbench'];
const BODY_BYTES = 160; // as large as the bench's ciphertexts
const UPDATE_ROWS = 10_000;

/** One row of `t` per transaction, as one 1:1 message's queue row. */
export const insertRow = `\\set x random(1, 1000000000)\ninsert into t (v, body) values (:x, '\\x${'00'.repeat(BODY_BYTES)}');\n`;
/** `n` rows of `t` in one transaction, as one group message's queue rows. */
export const insertRows = (n) => `\\set x random(1, 1000000000)\ninsert into t (v, body) select :x, '\\x${'00'.repeat(BODY_BYTES)}' from generate_series(1, ${n});\n`;
/** One random row of `u` updated per transaction. */
export const updateRow = `\\set id random(1, ${UPDATE_ROWS})\nupdate u set n = n + 1 where id = :id;\n`;

/** A fresh scratch database of the stack's run, with `t` to insert into and `u` to update. */
export async function scratchDatabase(stack) {
  const name = stack.isolation.database('bench_pgbench');
  const admin = new pg.Client({ connectionString: stack.isolation.pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = databaseUrl(stack.isolation.pgUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE t (id bigserial PRIMARY KEY, v bigint NOT NULL, body bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  await client.query('CREATE TABLE u (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)');
  await client.query('INSERT INTO u (id) SELECT generate_series(1, $1)', [UPDATE_ROWS]);
  await client.end();
  return url;
}

/**
 * Runs `script` (one transaction) with `clients` connections for `seconds`, at most `rate` per
 * second when given. Returns {perSecond, samples, p50, p99, latencies, seconds} from pgbench's
 * per-transaction log, in ms (with a rate, latency counts from each transaction's scheduled start,
 * as pgbench does).
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
    return { ...summarize(latencies, seconds), perSecond: tps, latencies, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the first pgbench found. PostgreSQL is shared with other work on the box, so when it has
 * no connection slot left the run is tried again, a few times.
 */
/**
 * Runs `figure()` between two halves of a pgbench baseline (`options.seconds` in all), so that the
 * baseline sees the load from other work on the box that the figure saw, even as it drifts.
 * Returns [what figure() returned, the baseline over both halves].
 */
export async function bracketed(url, script, options, figure) {
  const half = { ...options, seconds: Math.max(1, Math.round(options.seconds / 2)) };
  const before = await pgbench(url, script, half);
  const result = await figure();
  const after = await pgbench(url, script, half);
  return [result, combine([before, after])];
}

async function runPgbench(args, attempts = 5) {
  for (const bin of PGBENCH) {
    try {
      return await promisify(execFile)(bin, args, { maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      if (attempts > 1 && /too many clients/.test(err.stderr)) {
        await sleep(2000);
        return runPgbench(args, attempts - 1);
      }
      if (err.code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`pgbench not found (tried ${PGBENCH.join(', ')})`);
}
