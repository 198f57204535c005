import { eventually, TestIsolation } from '@parley/testing';
import { AdvisoryLocks, LOCK_NOT_AVAILABLE } from '../src/db/advisory-locks.js';
import { sqlState } from '../src/db/sql-pool.js';

const isolation = new TestIsolation();
// Two pools stand for two processes: each has its own sessions.
let first: AdvisoryLocks;
let second: AdvisoryLocks;

const advisoryLocks = async (granted: boolean) =>
  (
    await isolation.query<{ n: number }>(
      isolation.database('locks'),
      `select count(*)::int as n from pg_locks
        where locktype = 'advisory' and granted = $1 and database = (select oid from pg_database where datname = current_database())`,
      [granted],
    )
  )[0]!.n;

beforeAll(async () => {
  const url = isolation.databaseUrl('locks');
  await isolation.query('postgres', `create database "${isolation.database('locks')}"`);
  first = new AdvisoryLocks(url, 2);
  second = new AdvisoryLocks(url, 2);
});

afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
  await isolation.cleanup([]);
});

describe('AdvisoryLocks', () => {
  it('lets one holder at a time have a name, across pools; other names are free', async () => {
    const held = await first.tryAcquire('upload:a');
    expect(held).toBeDefined();
    expect(await second.tryAcquire('upload:a')).toBeUndefined();
    const other = await second.tryAcquire('upload:b');
    expect(other).toBeDefined();
    await held!.release();
    const next = await second.tryAcquire('upload:a');
    expect(next).toBeDefined();
    await Promise.all([next!.release(), other!.release()]);
  });

  it('acquire waits in PostgreSQL until the holder releases', async () => {
    const held = (await first.tryAcquire('upload:c'))!;
    let acquired = false;
    const waiting = second.acquire('upload:c', new AbortController().signal).then((lock) => {
      acquired = true;
      return lock;
    });
    await eventually(() => advisoryLocks(false), (n) => n === 1);
    expect(acquired).toBe(false);
    await held.release();
    await (await waiting).release();
    expect(acquired).toBe(true);
  });

  it('acquire gives up when its signal aborts, and holds or waits for nothing', async () => {
    const held = (await first.tryAcquire('upload:d'))!;
    const stop = new AbortController();
    const waiting = second.acquire('upload:d', stop.signal).catch((err: unknown) => err);
    await eventually(() => advisoryLocks(false), (n) => n === 1);
    stop.abort(new Error('request gone'));
    expect(await waiting).toEqual(new Error('request gone'));
    await eventually(() => advisoryLocks(false), (n) => n === 0);
    await held.release();
    const again = await second.tryAcquire('upload:d');
    expect(again).toBeDefined();
    await again!.release();
  });

  it('acquire fails with LOCK_NOT_AVAILABLE after the wait timeout', async () => {
    const impatient = new AdvisoryLocks(isolation.databaseUrl('locks'), 1, 50);
    const held = (await first.tryAcquire('upload:f'))!;
    const failed = await impatient.acquire('upload:f', new AbortController().signal).catch((err: unknown) => err);
    expect(sqlState(failed)).toBe(LOCK_NOT_AVAILABLE);
    await held.release();
    await (await impatient.acquire('upload:f', new AbortController().signal)).release();
    await impatient.close();
  });

  it('gives the connections back: many acquire-release rounds on a pool of two leave no lock', async () => {
    for (let i = 0; i < 10; i++) await (await first.acquire(`upload:e${i % 3}`, new AbortController().signal)).release();
    expect(await advisoryLocks(true)).toBe(0);
  });
});
