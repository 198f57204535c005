import type { EntityManager } from '@mikro-orm/postgresql';
import { pageSize, sqlRows } from '@parley/platform';
import type { ModerationDeps } from '../deps.js';
import type { AuditEntryRow } from './audit-log.js';
import { decodeSeqToken, encodePageToken } from './page-token.js';
import { withDates } from './row-dates.js';

/** The audit log in order, optionally only about one user. */
export async function listAuditLog(deps: Pick<ModerationDeps, 'orm'>, input: { subjectUserId: string; pageSize: number; pageToken: string }): Promise<{ entries: AuditEntryRow[]; nextPageToken: string }> {
  const size = pageSize(input.pageSize);
  const after = decodeSeqToken(input.pageToken);
  const rows = withDates(await sqlRows<AuditEntryRow>(
    deps.orm.em.fork() as EntityManager,
    `select * from audit_entry where seq > ? ${input.subjectUserId ? 'and subject_user_id = ?' : ''} order by seq limit ?`,
    [after, ...(input.subjectUserId ? [input.subjectUserId] : []), size + 1],
  ), ['at']);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return { entries: page, nextPageToken: rows.length > size && last ? encodePageToken([String(last.seq)]) : '' };
}
