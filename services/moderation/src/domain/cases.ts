import type { EntityManager } from '@mikro-orm/postgresql';
import { pageSize, rpcError, sqlRows, type Caller } from '@parley/platform';
import { CaseState, ReportReason } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { appendAudit } from './audit-log.js';
import { decodeTimeIdToken, encodePageToken } from './page-token.js';
import { REPORT_VIEW, type ReportView } from './report-view.js';
import { rolesOf } from './roles.js';
import { withDates } from './row-dates.js';

export interface CaseRow {
  id: string;
  target_type: string;
  target_user_id: string | null;
  conversation_id: string | null;
  message_id: string | null;
  reason: string;
  verified: boolean;
  state: string;
  assignee_id: string | null;
  report_count: number;
  created_at: Date;
  updated_at: Date;
}

export interface NoteRow {
  author_id: string;
  text: string;
  created_at: Date;
}

const caseDates = (rows: CaseRow[]) => withDates(rows, ['created_at', 'updated_at']);

/** A case state as stored: the enum name in lowercase, e.g. "in_review". */
export const stateName = (s: CaseState) => CaseState[s].toLowerCase();

export interface CaseFilter {
  states: CaseState[];
  reason: ReportReason;
  verified?: boolean;
  pageSize: number;
  pageToken: string;
}

/** The review queue, oldest first (the longest waiting is reviewed first). */
export async function listCases(deps: Pick<ModerationDeps, 'orm'>, f: CaseFilter): Promise<{ cases: CaseRow[]; nextPageToken: string }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.states.length > 0) {
    where.push('state = any(?::text[])');
    params.push(f.states.map(stateName));
  }
  if (f.reason !== ReportReason.UNSPECIFIED) {
    where.push('reason = ?');
    params.push(ReportReason[f.reason]);
  }
  if (f.verified !== undefined) {
    where.push('verified = ?');
    params.push(f.verified);
  }
  const after = decodeTimeIdToken(f.pageToken);
  if (after) {
    where.push('(created_at, id) > (?::timestamptz, ?::uuid)');
    params.push(...after);
  }
  const size = pageSize(f.pageSize);
  const rows = caseDates(await sqlRows<CaseRow>(
    deps.orm.em.fork() as EntityManager,
    `select * from moderation_case ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at, id limit ?`,
    [...params, size + 1],
  ));
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return { cases: page, nextPageToken: rows.length > size && last ? encodePageToken([last.created_at.toISOString(), last.id]) : '' };
}

async function caseForUpdate(em: EntityManager, caseId: string): Promise<CaseRow> {
  const [row] = caseDates(await sqlRows<CaseRow>(em, `select * from moderation_case where id = ? for update`, [caseId]));
  if (!row) throw rpcError.notFound(`no case with id ${caseId}`);
  return row;
}

export async function getCase(deps: Pick<ModerationDeps, 'orm'>, caseId: string): Promise<{ kase: CaseRow; reports: ReportView[]; notes: NoteRow[] }> {
  const em = deps.orm.em.fork() as EntityManager;
  const [kase] = caseDates(await sqlRows<CaseRow>(em, `select * from moderation_case where id = ?`, [caseId]));
  if (!kase) throw rpcError.notFound(`no case with id ${caseId}`);
  const reports = withDates(await sqlRows<ReportView>(em, `${REPORT_VIEW} where r.case_id = ? order by r.created_at`, [caseId]), ['created_at']);
  const notes = withDates(await sqlRows<NoteRow>(em, `select author_id, text, created_at from case_note where case_id = ? order by created_at`, [caseId]), ['created_at']);
  return { kase, reports, notes };
}

/** Assigns a case to a role holder; an open case moves to in review. A closed case stays closed. */
export async function assignCase(deps: Pick<ModerationDeps, 'orm' | 'clock'>, caller: Caller, input: { caseId: string; assigneeUserId: string }): Promise<CaseRow> {
  return deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const assignee = input.assigneeUserId || caller.userId;
    if ((await rolesOf(em, assignee)).length === 0) throw rpcError.failedPrecondition(`user ${assignee} holds no moderation role, so can't be assigned a case`);
    const kase = await caseForUpdate(em, input.caseId);
    if (kase.state === 'resolved' || kase.state === 'dismissed') throw rpcError.failedPrecondition(`case ${kase.id} is ${kase.state}: a closed case can't be assigned`);
    const at = new Date(deps.clock.now());
    const [updated] = caseDates(await sqlRows<CaseRow>(em, `update moderation_case set assignee_id = ?, state = 'in_review', updated_at = ? where id = ? returning *`, [assignee, at, kase.id]));
    await appendAudit(em, at, { actor: `user:${caller.userId}`, action: 'case.assigned', subjectUserId: kase.target_user_id, caseId: kase.id, reason: `assigned to ${assignee}`, evidence: '' });
    return updated!;
  });
}

export async function addCaseNote(deps: Pick<ModerationDeps, 'orm' | 'clock'>, caller: Caller, input: { caseId: string; text: string }): Promise<void> {
  await deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const kase = await caseForUpdate(em, input.caseId);
    const at = new Date(deps.clock.now());
    await sqlRows(em, `insert into case_note (id, case_id, author_id, text, created_at) values (gen_random_uuid(), ?, ?, ?, ?)`, [kase.id, caller.userId, input.text, at]);
    await sqlRows(em, `update moderation_case set updated_at = ? where id = ?`, [at, kase.id]);
    await appendAudit(em, at, { actor: `user:${caller.userId}`, action: 'case.noted', subjectUserId: kase.target_user_id, caseId: kase.id, reason: input.text, evidence: '' });
  });
}

/** Resolves or dismisses a case; closing a closed case is refused, as its outcome is final. */
export async function closeCase(deps: Pick<ModerationDeps, 'orm' | 'clock'>, caller: Caller, input: { caseId: string; state: CaseState; note: string }): Promise<CaseRow> {
  return deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const kase = await caseForUpdate(em, input.caseId);
    if (kase.state === 'resolved' || kase.state === 'dismissed') throw rpcError.failedPrecondition(`case ${kase.id} is already ${kase.state}`);
    const at = new Date(deps.clock.now());
    const state = stateName(input.state);
    const [updated] = caseDates(await sqlRows<CaseRow>(em, `update moderation_case set state = ?, assignee_id = coalesce(assignee_id, ?), updated_at = ? where id = ? returning *`, [
      state, caller.userId, at, kase.id,
    ]));
    await appendAudit(em, at, { actor: `user:${caller.userId}`, action: `case.${state}`, subjectUserId: kase.target_user_id, caseId: kase.id, reason: input.note || state, evidence: `reports:${kase.report_count}` });
    return updated!;
  });
}
