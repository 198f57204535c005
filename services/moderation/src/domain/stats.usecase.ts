import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import type { ModerationDeps } from '../deps.js';

export interface Stats {
  byState: Map<string, number>;
  byTargetType: Map<string, number>;
  byReason: Map<string, number>;
  byVerified: Map<string, number>;
  reports: number;
}

/** Counts of cases created within the window before now (all time without one), for the console. */
export async function caseStats(deps: Pick<ModerationDeps, 'orm' | 'clock'>, windowMs: number | undefined): Promise<Stats> {
  const em = deps.orm.em.fork() as EntityManager;
  const since = new Date(windowMs === undefined ? 0 : deps.clock.now() - windowMs);
  const rows = await sqlRows<{ dimension: string; key: string; n: string }>(
    em,
    `select 'state' as dimension, state as key, count(*) as n from moderation_case where created_at >= ? group by state
     union all select 'target_type', target_type, count(*) from moderation_case where created_at >= ? group by target_type
     union all select 'reason', reason, count(*) from moderation_case where created_at >= ? group by reason
     union all select 'verified', verified::text, count(*) from moderation_case where created_at >= ? group by verified
     union all select 'reports', '', count(*) from report where created_at >= ?`,
    [since, since, since, since, since],
  );
  const of = (dimension: string) => new Map(rows.filter((r) => r.dimension === dimension).map((r) => [r.key.toUpperCase(), Number(r.n)]));
  return {
    byState: of('state'),
    byTargetType: of('target_type'),
    byReason: of('reason'),
    byVerified: new Map(rows.filter((r) => r.dimension === 'verified').map((r) => [r.key, Number(r.n)])),
    reports: Number(rows.find((r) => r.dimension === 'reports')?.n ?? 0),
  };
}
