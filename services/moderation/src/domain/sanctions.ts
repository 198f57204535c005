import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows, type Caller } from '@parley/platform';
import { ReportReason, SanctionKind } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { appendAudit } from './audit-log.js';
import { IN_FORCE, SANCTION_DATES, publishStanding, type SanctionRow } from './standing.js';
import { requireKnownUser } from './users.js';
import { withDates } from './row-dates.js';

export interface SanctionInput {
  userId: string;
  kind: SanctionKind;
  /** Required for RESTRICT and TEMPORARY_BAN, refused for the others. */
  durationMs?: number;
  reason: ReportReason;
  note: string;
  caseId?: string;
}

const TIMED = new Set([SanctionKind.RESTRICT, SanctionKind.TEMPORARY_BAN]);

/**
 * Records a sanction, publishes the user's standing and audits it, in the caller's transaction.
 * `actor` is "user:<id>" for a moderator, "rule:<name>" for auto-moderation.
 */
export async function recordSanction(em: EntityManager, deps: Pick<ModerationDeps, 'outbox'>, at: Date, actor: string, input: SanctionInput): Promise<SanctionRow> {
  const kindName = SanctionKind[input.kind];
  if (TIMED.has(input.kind) && !input.durationMs) throw rpcError.invalidArgument(`a ${kindName} sanction needs a duration`);
  if (!TIMED.has(input.kind) && input.durationMs) throw rpcError.invalidArgument(`a ${kindName} sanction takes no duration: only RESTRICT and TEMPORARY_BAN end by themselves`);
  const row: SanctionRow = {
    id: randomUUID(),
    user_id: input.userId,
    kind: input.kind,
    reason: ReportReason[input.reason],
    note: input.note,
    applied_by: actor.startsWith('user:') ? actor.slice(5) : null,
    case_id: input.caseId ?? null,
    created_at: at,
    expires_at: input.durationMs ? new Date(at.getTime() + input.durationMs) : null,
    lifted_at: null,
    ended_at: null,
  };
  await sqlRows(
    em,
    `insert into sanction (id, user_id, kind, reason, note, applied_by, case_id, created_at, expires_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.id, row.user_id, row.kind, row.reason, row.note, row.applied_by, row.case_id, at, row.expires_at],
  );
  await publishStanding(em, deps.outbox, input.userId, at);
  await appendAudit(em, at, {
    actor,
    action: 'sanction.applied',
    subjectUserId: input.userId,
    caseId: row.case_id,
    reason: `${kindName} for ${row.reason}${row.expires_at ? ` until ${row.expires_at.toISOString()}` : ''}${input.note ? `: ${input.note}` : ''}`,
    evidence: `sanction:${row.id}`,
  });
  return row;
}

/** A moderator's sanction; the target must be a known account, and the case, if named, must exist. */
export async function applySanction(deps: Pick<ModerationDeps, 'orm' | 'outbox' | 'clock'>, caller: Caller, input: SanctionInput): Promise<SanctionRow> {
  return deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    await requireKnownUser(em, input.userId);
    if (input.caseId) {
      const [found] = await sqlRows(em, `select 1 from moderation_case where id = ?`, [input.caseId]);
      if (!found) throw rpcError.notFound(`no case with id ${input.caseId}`);
    }
    return recordSanction(em, deps, new Date(deps.clock.now()), `user:${caller.userId}`, input);
  });
}

/** Lifts every sanction in force on a user (an unban); publishes NONE. */
export async function liftSanctions(deps: Pick<ModerationDeps, 'orm' | 'outbox' | 'clock'>, caller: Caller, input: { userId: string; note: string }): Promise<number> {
  return deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const at = new Date(deps.clock.now());
    const lifted = await sqlRows<{ id: string }>(em, `update sanction set lifted_at = ?, ended_at = ? where user_id = ? and ${IN_FORCE} returning id`, [at, at, input.userId, at]);
    if (lifted.length === 0) throw rpcError.failedPrecondition(`user ${input.userId} has no sanction in force to lift`);
    await publishStanding(em, deps.outbox, input.userId, at);
    await appendAudit(em, at, {
      actor: `user:${caller.userId}`,
      action: 'sanction.lifted',
      subjectUserId: input.userId,
      reason: input.note || 'lifted',
      evidence: lifted.map((s) => `sanction:${s.id}`).join(' '),
    });
    return lifted.length;
  });
}

export async function listSanctions(deps: Pick<ModerationDeps, 'orm'>, userId: string): Promise<SanctionRow[]> {
  return withDates(await sqlRows<SanctionRow>(deps.orm.em.fork() as EntityManager, `select * from sanction where user_id = ? order by created_at desc limit 200`, [userId]), SANCTION_DATES);
}

/**
 * Ends the sanctions whose time ran out and publishes each affected user's new standing (the expiry
 * is itself an event), with an audit entry. Replicas may sweep at once: rows are claimed with SKIP LOCKED.
 */
export async function expireSanctions(deps: Pick<ModerationDeps, 'orm' | 'outbox' | 'clock'>): Promise<number> {
  return deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const at = new Date(deps.clock.now());
    const due = withDates(
      await sqlRows<{ id: string; user_id: string; kind: SanctionKind; expires_at: Date }>(
        em,
        `select id, user_id, kind, expires_at from sanction where ended_at is null and expires_at <= ? order by expires_at limit 500 for update skip locked`,
        [at],
      ),
      ['expires_at'],
    );
    if (due.length === 0) return 0;
    await sqlRows(em, `update sanction set ended_at = expires_at where id = any(?::uuid[])`, [due.map((s) => s.id)]);
    for (const userId of new Set(due.map((s) => s.user_id))) {
      await publishStanding(em, deps.outbox, userId, at);
      const mine = due.filter((s) => s.user_id === userId);
      await appendAudit(em, at, {
        actor: 'system',
        action: 'sanction.expired',
        subjectUserId: userId,
        reason: mine.map((s) => `${SanctionKind[s.kind]} ended at ${s.expires_at.toISOString()}`).join('; '),
        evidence: mine.map((s) => `sanction:${s.id}`).join(' '),
      });
    }
    return due.length;
  });
}
