import { Code, ConnectError } from '@connectrpc/connect';
import { ManualClock, TestIsolation } from '@parley/testing';
import { openDatabase, type MikroORM } from '../src/db/database.js';
import { SqlPool } from '../src/db/sql-pool.js';
import { RateLimiter, RateLimitBucketSchema } from '../src/ratelimit/rate-limiter.js';
import { testMigrations } from './support/test-migrations.js';

const isolation = new TestIsolation();
let orm: MikroORM;
let pool: SqlPool;
let n = 0;
/** The limiters' time: it stands still unless a test moves it, so every count below is exact. */
let clock: ManualClock;

beforeEach(() => {
  clock = new ManualClock();
});

/** A limiter with its own policy name, so tests never share buckets. */
function limiter(capacity: number, refillPerSecond = 0.01): RateLimiter {
  return new RateLimiter(orm, { name: `test-${++n}`, capacity, refillPerSecond }, clock);
}

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return orm.em.fork().getConnection().execute<T[]>(query, params);
}

async function allowedOf(l: RateLimiter, subject: string, takes: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < takes; i++) if ((await l.take(subject)).allowed) allowed++;
  return allowed;
}

beforeAll(async () => {
  orm = await openDatabase(
    { entities: [RateLimitBucketSchema], migrations: testMigrations },
    { url: isolation.databaseUrl('ratelimit'), createIfMissing: true, poolMax: 10 },
  );
  pool = new SqlPool(isolation.databaseUrl('ratelimit'), 2);
});

afterAll(async () => {
  await pool?.close();
  await orm?.close(true);
  await isolation.cleanup([]);
});

describe('RateLimiter', () => {
  it('allows a fresh bucket its capacity, then refuses and says when one token is back', async () => {
    const l = limiter(3, 0.01);
    expect(await allowedOf(l, 'alice', 3)).toBe(3);
    const refused = await l.take('alice');
    expect(refused.allowed).toBe(false);
    // One token comes back every 100 s, and no time has passed.
    expect(refused.retryAfterSeconds).toBe(100);
    clock.advance(30_000);
    expect((await l.take('alice')).retryAfterSeconds).toBe(70);
  });

  it('never lets concurrent takes overspend a bucket', async () => {
    const l = limiter(5);
    const decisions = await Promise.all(Array.from({ length: 40 }, () => l.take('shared')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    const [row] = await sql<{ tokens: number }>('select tokens from rate_limit_bucket where policy = ?', [l.policy.name]);
    expect(row!.tokens).toBe(0);
  });

  it('keeps one bucket per policy and subject', async () => {
    const a = limiter(1);
    const b = limiter(1);
    expect((await a.take('carol')).allowed).toBe(true);
    expect((await a.take('carol')).allowed).toBe(false);
    expect((await a.take('dave')).allowed).toBe(true);
    expect((await b.take('carol')).allowed).toBe(true);
  });

  it('refills with time, never above capacity', async () => {
    const l = limiter(2, 0.5);
    expect(await allowedOf(l, 'erin', 3)).toBe(2);
    clock.advance(1_999);
    expect(await allowedOf(l, 'erin', 1)).toBe(0);
    clock.advance(1);
    expect(await allowedOf(l, 'erin', 2)).toBe(1);
    clock.advance(3_600_000);
    expect(await allowedOf(l, 'erin', 5)).toBe(2);
  });

  it('takes a larger cost only when the bucket holds all of it', async () => {
    const l = limiter(5);
    expect((await l.take('frank', 4)).allowed).toBe(true);
    const refused = await l.take('frank', 2);
    expect(refused.allowed).toBe(false);
    expect((await l.take('frank', 1)).allowed).toBe(true);
  });

  it('refund gives tokens back, up to capacity', async () => {
    const l = limiter(2);
    expect(await allowedOf(l, 'grace', 3)).toBe(2);
    await l.refund('grace');
    expect(await allowedOf(l, 'grace', 2)).toBe(1);
    await l.refund('grace', 10);
    expect(await allowedOf(l, 'grace', 5)).toBe(2);
  });

  it('refund of a bucket never taken from leaves nothing behind', async () => {
    const l = limiter(2);
    await l.refund('heidi');
    expect(await sql('select 1 from rate_limit_bucket where policy = ?', [l.policy.name])).toHaveLength(0);
  });

  it('enforce refuses with RESOURCE_EXHAUSTED, naming the limit and the wait', async () => {
    const l = limiter(1, 0.1);
    await l.enforce('ivan', 'too many tries');
    const err = await l.enforce('ivan', 'too many tries').then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toBe('too many tries; retry in 10 s');
  });

  it('prune deletes only refilled buckets, and forget deletes a subject’s buckets', async () => {
    const l = limiter(2, 0.001);
    await l.take('judy');
    await l.take('mallory');
    await l.take('oscar:judy');
    // mallory's bucket is full again by then; the others, a token short at 0.001 a second, are not.
    await sql(`update rate_limit_bucket set full_at = full_at - interval '1000 seconds' where policy = ? and subject = 'mallory'`, [l.policy.name]);
    clock.advance(1);
    expect(await RateLimiter.prune(orm.em.fork(), new Date(clock.now()))).toBeGreaterThanOrEqual(1);
    const subjects = async () =>
      (await sql<{ subject: string }>('select subject from rate_limit_bucket where policy = ? order by subject', [l.policy.name])).map((r) => r.subject);
    expect(await subjects()).toEqual(['judy', 'oscar:judy']);
    await RateLimiter.forget(orm.em.fork(), ['judy']);
    expect(await subjects()).toEqual([]);
  });

  it('takes several buckets inside a statement of the caller, each all or nothing', async () => {
    const l = limiter(3);
    expect(await allowedOf(l, 'kim', 2)).toBe(2);
    // lee can pay 2; kim holds 1 of the 2 asked; max asks more than a bucket ever holds.
    const { text, values } = l.takeStatement(['lee', 'kim', 'max'], [2, 2, 4], 2);
    const rows = await pool.query(`with take as (${text}) select $1::int as mine, array(select subject from take order by subject) as taken`, [7, ...values]);
    expect(rows).toEqual([{ mine: 7, taken: ['lee'] }]);
    expect(await allowedOf(l, 'lee', 2)).toBe(1);
    expect(await allowedOf(l, 'kim', 2)).toBe(1);
    expect(await allowedOf(l, 'max', 4)).toBe(3);
  });

  it('prune leaves a bucket that a take holds for the next sweep', async () => {
    const l = limiter(2, 0.001);
    await l.take('nina');
    await l.take('olga');
    await sql(`update rate_limit_bucket set full_at = full_at - interval '1000 seconds' where policy = ?`, [l.policy.name]);
    clock.advance(1);
    await pool.transaction(async (tx) => {
      await tx.query(`select 1 from rate_limit_bucket where policy = $1 and subject = 'nina' for update`, [l.policy.name]);
      await RateLimiter.prune(orm.em.fork(), new Date(clock.now()));
    });
    expect(await sql('select subject from rate_limit_bucket where policy = ?', [l.policy.name])).toEqual([{ subject: 'nina' }]);
  });
});
