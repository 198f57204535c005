import { EntitySchema } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { MikroORM } from '@mikro-orm/postgresql';
import { sqlRows } from '../db/sql.js';
import { rpcError } from '../rpc/errors.js';
import type { Clock } from '../time/clock.js';

/**
 * One token bucket. A service that rate limits adds this entity to its database, so every replica
 * shares the same buckets.
 */
export interface RateLimitBucket {
  policy: string;
  subject: string;
  tokens: number;
  updatedAt: Date;
  /** When the bucket is full again; past that the row says nothing and may be pruned. */
  fullAt: Date;
}

export const RateLimitBucketSchema = new EntitySchema<RateLimitBucket>({
  name: 'RateLimitBucket',
  tableName: 'rate_limit_bucket',
  properties: {
    policy: { type: 'text', primary: true },
    subject: { type: 'text', primary: true },
    tokens: { type: 'double' },
    updatedAt: { type: 'datetime' },
    fullAt: { type: 'datetime', index: true },
  },
});

export interface RateLimitPolicy {
  /** Names the limit, e.g. "login-failures-per-account". */
  name: string;
  /** How many takes a fresh bucket allows at once. */
  capacity: number;
  /** How many takes come back per second. */
  refillPerSecond: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds until `cost` tokens are available again; 0 when allowed. */
  retryAfterSeconds: number;
}

type Executor = Pick<EntityManager, 'execute'>;

const PRUNE_PROBABILITY = 0.01;

/** Each statement's time, `clock.at`: the given moment, or PostgreSQL's now() when there is none. */
const CLOCK = 'with clock as (select coalesce(?::timestamptz, now()) as at)';

/** A statement for the caller to run: `$first`… parameters and their values. */
export interface TakeStatement {
  text: string;
  values: unknown[];
}

/**
 * Token buckets in PostgreSQL: one statement refills and takes atomically, so concurrent requests
 * on any replica can't overspend a bucket. Time is PostgreSQL's, one clock for every replica,
 * unless a `clock` is given (tests, to move time exactly).
 */
export class RateLimiter {
  constructor(
    private readonly orm: MikroORM,
    readonly policy: RateLimitPolicy,
    private readonly clock?: Clock,
  ) {
    if (policy.capacity <= 0 || policy.refillPerSecond <= 0) throw new Error(`rate limit ${policy.name}: capacity and refill must be positive`);
  }

  /** Takes `cost` tokens from `subject`'s bucket if it holds that many; cost 0 only looks. */
  async take(subject: string, cost = 1, em: EntityManager = this.orm.em.fork() as EntityManager): Promise<RateLimitDecision> {
    const { text, values } = this.takeStatement([subject], [cost]);
    const taken = await sqlRows(em, ...questionMarks(text, values));
    await this.pruneNowAndThen(em);
    if (taken.length > 0) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: await this.retryAfterSeconds(subject, cost, em) };
  }

  /**
   * The take of `costs[i]` tokens from each `subjects[i]`'s bucket (each all or nothing) as one
   * data-modifying statement for the caller to run inside a statement of its own, e.g. as a CTE,
   * so the limit costs no round trip of its own. It returns the `subject` of every bucket it took
   * from. Subjects must be distinct; buckets are locked in subject order, so concurrent takes of
   * several buckets can't deadlock. Parameters are numbered from `$first`.
   */
  takeStatement(subjects: readonly string[], costs: readonly number[], first = 1): TakeStatement {
    const [at, policy, capacity, refill, subjectList, costList] = [0, 1, 2, 3, 4, 5].map((i) => `$${first + i}`);
    // The cost of the take in the update: what a fresh bucket would hold after it is capacity - cost.
    const cost = `(${capacity}::float8 - excluded.tokens)`;
    const level = `least(${capacity}::float8, b.tokens + extract(epoch from excluded.updated_at - b.updated_at) * ${refill}::float8)`;
    const text = `insert into rate_limit_bucket as b (policy, subject, tokens, updated_at, full_at)
        select ${policy}::text, s.subject, ${capacity}::float8 - s.cost, clock.at, clock.at + make_interval(secs => s.cost / ${refill}::float8)
          from unnest(${subjectList}::text[], ${costList}::float8[]) as s(subject, cost), (select coalesce(${at}::timestamptz, now()) as at) clock
         where s.cost <= ${capacity}::float8
         order by s.subject
      on conflict (policy, subject) do update
        set tokens = ${level} - ${cost},
            updated_at = excluded.updated_at,
            full_at = excluded.updated_at + make_interval(secs => (${capacity}::float8 - (${level} - ${cost})) / ${refill}::float8)
        where ${level} >= ${cost}
      returning b.subject`;
    const { name, capacity: c, refillPerSecond } = this.policy;
    return { text, values: [this.at(), name, c, refillPerSecond, subjects, costs] };
  }

  /** Whole seconds until `subject`'s bucket holds `cost` tokens again: what a refused take answers. */
  async retryAfterSeconds(subject: string, cost = 1, em: Executor = this.orm.em.fork()): Promise<number> {
    const { name, capacity, refillPerSecond: refill } = this.policy;
    const [row]: { tokens: number }[] = await em.execute(
      `${CLOCK}
       select least(?::float8, tokens + extract(epoch from clock.at - updated_at) * ?::float8) as tokens
         from rate_limit_bucket, clock where policy = ? and subject = ?`,
      [this.at(), capacity, refill, name, subject],
    );
    const missing = cost - Number(row?.tokens ?? capacity);
    return Math.max(1, Math.ceil(missing / refill));
  }

  /** Refilled buckets are dead rows; sweeping now and then (after a take) keeps the table the size of the abuse. */
  async pruneNowAndThen(em?: Executor): Promise<void> {
    if (Math.random() < PRUNE_PROBABILITY) await RateLimiter.prune(em ?? this.orm.em.fork(), this.at() ?? undefined);
  }

  /**
   * Gives back `cost` tokens taken earlier, up to capacity. For limits on failures: take before the
   * attempt, so concurrent attempts can't overspend, and refund when it succeeds.
   */
  async refund(subject: string, cost = 1, em: Executor = this.orm.em.fork()): Promise<void> {
    const { name, capacity, refillPerSecond: refill } = this.policy;
    const level = `least(?::float8, tokens + extract(epoch from clock.at - updated_at) * ?::float8 + ?::float8)`;
    await em.execute(
      `${CLOCK}
       update rate_limit_bucket
          set tokens = ${level},
              updated_at = clock.at,
              full_at = clock.at + make_interval(secs => (?::float8 - ${level}) / ?::float8)
         from clock
        where policy = ? and subject = ?`,
      [this.at(), capacity, refill, cost, capacity, capacity, refill, cost, refill, name, subject],
    );
  }

  /** Takes one token or refuses with RESOURCE_EXHAUSTED, saying what was limited and when to retry. */
  async enforce(subject: string, what: string, cost = 1): Promise<void> {
    const decision = await this.take(subject, cost);
    if (!decision.allowed) throw rpcError.resourceExhausted(`${what}; retry in ${decision.retryAfterSeconds} s`);
  }

  /**
   * Deletes buckets that have refilled by `at` (PostgreSQL's now() by default): they hold no
   * information. A bucket a take holds is left for next time, so a sweep never waits for takes
   * (nor deadlocks with one that holds several buckets).
   */
  static async prune(em: Executor, at?: Date): Promise<number> {
    const rows: unknown[] = await em.execute(
      `${CLOCK}
       delete from rate_limit_bucket b
        using (select policy, subject from rate_limit_bucket, clock where full_at < clock.at for update skip locked) refilled
        where (b.policy, b.subject) = (refilled.policy, refilled.subject)
       returning 1`,
      [at ?? null],
    );
    return rows.length;
  }

  private at(): Date | null {
    return this.clock ? new Date(this.clock.now()) : null;
  }

  /** Forgets every bucket whose subject is, or is a pair that includes, one of `ids`. */
  static async forget(em: Executor, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await em.execute(
      `delete from rate_limit_bucket
        where subject in (?) or split_part(subject, ':', 1) in (?) or split_part(subject, ':', 2) in (?)`,
      [ids, ids, ids],
    );
  }
}

/** `text`'s `$n` parameters as knex's `?`, with their values in the order they appear. */
function questionMarks(text: string, values: readonly unknown[]): [string, unknown[]] {
  const ordered: unknown[] = [];
  return [text.replace(/\$(\d+)/g, (_, n: string) => (ordered.push(values[Number(n) - 1]), '?')), ordered];
}
