import type { EntityManager } from '@mikro-orm/core';
import type { ConnectError } from '@connectrpc/connect';
import { SanctionKind } from '@parley/proto';
import { Batcher } from '../batching/batcher.js';
import { defineConsumer, type ConsumerSpec } from '../consumer/idempotent-consumer.js';
import type { SqlRunner } from '../db/sql-pool.js';
import { events } from '../events/catalog.js';
import { SanctionStandingSchema } from './sanction-standing.entity.js';
import { systemClock, type Clock } from '../time/clock.js';
import { isBanned, sanctionRefusal, standingOf, type SanctionStanding, type SanctionedAction } from './sanction-standing.js';

/**
 * Keeps `standing` as its user's unless a later change is kept already, in the consumer's
 * transaction. Whether it is now the user's standing (false for a late or repeated event).
 */
export async function recordSanctionStanding(em: EntityManager, standing: SanctionStanding): Promise<boolean> {
  const rows: unknown[] = await em.getConnection().execute(
    `insert into sanction_standing (user_id, kind, sanction_id, expires_at, reason, changed_at) values (?, ?, ?, ?, ?, ?)
     on conflict (user_id) do update set kind = excluded.kind, sanction_id = excluded.sanction_id, expires_at = excluded.expires_at,
       reason = excluded.reason, changed_at = excluded.changed_at
     where sanction_standing.changed_at < excluded.changed_at
     returning user_id`,
    [standing.userId, SanctionKind[standing.kind], standing.sanctionId, standing.expiresAt, standing.reason, standing.changedAt],
    'all',
    em.getTransactionContext(),
  );
  return rows.length > 0;
}

/** Drops the user's standing, with the rest of a deleted account (moderation keeps its own record). */
export async function forgetSanctionStanding(em: EntityManager, userId: string): Promise<void> {
  await em.nativeDelete(SanctionStandingSchema, { userId });
}

interface StandingRow {
  user_id: string;
  kind: string;
  sanction_id: string;
  expires_at: Date | null;
  reason: string;
  changed_at: Date;
}

const READ = {
  name: 'sanction-standings',
  text: 'select user_id, kind, sanction_id, expires_at, reason, changed_at from sanction_standing where user_id = any($1::uuid[])',
};

/**
 * Reads the sanction_standing projection and decides on it with an injected clock. Lookups that
 * arrive together go to the database as one query (most users have no row: the check costs one
 * indexed lookup per batch of calls).
 */
export class SanctionStandings {
  private readonly batcher: Batcher<string, SanctionStanding | undefined>;

  constructor(
    private readonly sql: SqlRunner,
    /** What "now" is when a temporary standing's end is checked. */
    readonly clock: Clock = systemClock,
  ) {
    this.batcher = new Batcher((userIds) => this.read(userIds), { maxBatch: 128, concurrency: 4 });
  }

  of(userId: string): Promise<SanctionStanding | undefined> {
    return this.batcher.submit(userId);
  }

  /** The user's PERMISSION_DENIED refusal if their standing forbids `action` now, else undefined. */
  async refusal(userId: string, action: SanctionedAction): Promise<ConnectError | undefined> {
    return sanctionRefusal(await this.of(userId), action, this.clock.now());
  }

  /** Throws the user's refusal when their standing forbids `action` now. */
  async require(userId: string, action: SanctionedAction): Promise<void> {
    const refusal = await this.refusal(userId, action);
    if (refusal) throw refusal;
  }

  /** Whether the user is banned now (temporarily or for good). */
  async banned(userId: string): Promise<boolean> {
    return isBanned(await this.of(userId), this.clock.now());
  }

  private async read(userIds: string[]): Promise<(SanctionStanding | undefined)[]> {
    const rows = await this.sql.query<StandingRow>(READ, [[...new Set(userIds)]]);
    const byUser = new Map(rows.map((r) => [r.user_id, toStanding(r)]));
    return userIds.map((id) => byUser.get(id.toLowerCase()));
  }
}

function toStanding(r: StandingRow): SanctionStanding {
  const kind = SanctionKind[r.kind as keyof typeof SanctionKind];
  return { userId: r.user_id, kind, sanctionId: r.sanction_id, expiresAt: r.expires_at, reason: r.reason, changedAt: r.changed_at };
}

/**
 * The consumer of moderation.sanction.changed that keeps the sanction_standing projection, in
 * each service that enforces sanctions (its durable is the service's own). `onLatest` runs in the
 * same transaction for a change that is now the user's standing, e.g. auth revoking a ban's sessions.
 */
export function sanctionStandingConsumer(onLatest?: (em: EntityManager, standing: SanctionStanding) => Promise<void>): ConsumerSpec {
  return defineConsumer({
    name: 'sanction-changed',
    eventType: events.sanctionChanged,
    async handle(em, payload) {
      const standing = standingOf(payload);
      if ((await recordSanctionStanding(em, standing)) && onLatest) await onLatest(em, standing);
    },
  });
}
