import type { EntityManager } from '@mikro-orm/postgresql';
import { pageSize, sqlRows, type Caller } from '@parley/platform';
import type { ModerationDeps } from '../deps.js';
import { decodeTimeIdToken, encodePageToken } from './page-token.js';
import { REPORT_VIEW, type ReportView } from './report-view.js';
import { withDates } from './row-dates.js';

/** The caller's own reports, newest first, with each one's case state. */
export async function listMyReports(deps: Pick<ModerationDeps, 'orm'>, caller: Caller, input: { pageSize: number; pageToken: string }): Promise<{ reports: ReportView[]; nextPageToken: string }> {
  const size = pageSize(input.pageSize);
  const after = decodeTimeIdToken(input.pageToken);
  const rows = withDates(await sqlRows<ReportView>(
    deps.orm.em.fork() as EntityManager,
    `${REPORT_VIEW} where r.reporter_id = ? ${after ? 'and (r.created_at, r.id) < (?::timestamptz, ?::uuid)' : ''} order by r.created_at desc, r.id desc limit ?`,
    [caller.userId, ...(after ?? []), size + 1],
  ), ['created_at']);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return { reports: page, nextPageToken: rows.length > size && last ? encodePageToken([last.created_at.toISOString(), last.id]) : '' };
}
