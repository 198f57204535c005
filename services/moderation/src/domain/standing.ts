import type { EntityManager } from '@mikro-orm/postgresql';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { events, sqlRows, type Outbox } from '@parley/platform';
import { SanctionKind } from '@parley/proto';
import { withDates } from './row-dates.js';

export interface SanctionRow {
  id: string;
  user_id: string;
  kind: SanctionKind;
  reason: string;
  note: string;
  applied_by: string | null;
  case_id: string | null;
  created_at: Date;
  expires_at: Date | null;
  lifted_at: Date | null;
  ended_at: Date | null;
}

/** Sanctions in force at `at`: not ended, and not past their expiry (the sweeper may not have run yet). */
export const SANCTION_DATES = ['created_at', 'expires_at', 'lifted_at', 'ended_at'] as const;

export const IN_FORCE = `ended_at is null and (expires_at is null or expires_at > ?)`;

/** The most severe sanction in force on a user at `at`, the longest-lasting among equals; none when clean. */
export async function standingOf(em: EntityManager, userId: string, at: Date): Promise<SanctionRow | undefined> {
  const rows = await sqlRows<SanctionRow>(
    em,
    `select * from sanction where user_id = ? and ${IN_FORCE} order by kind desc, expires_at desc nulls first, created_at desc limit 1`,
    [userId, at],
  );
  return withDates(rows, SANCTION_DATES)[0];
}

/** Publishes the user's standing at `at`, through the outbox, in the caller's transaction. */
export async function publishStanding(em: EntityManager, outbox: Outbox, userId: string, at: Date): Promise<SanctionKind> {
  const s = await standingOf(em, userId, at);
  outbox.add(em, events.sanctionChanged, {
    userId,
    sanctionId: s?.id ?? '',
    kind: s?.kind ?? SanctionKind.NONE,
    expiresAt: s?.expires_at ? timestampFromDate(s.expires_at) : undefined,
    reason: s?.reason ?? '',
    changedAt: timestampFromDate(at),
  });
  return s?.kind ?? SanctionKind.NONE;
}
