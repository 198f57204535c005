import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import { withDates } from './row-dates.js';

/** A report as its reporter (and moderators) see it, with its case's state. */
export interface ReportView {
  id: string;
  case_id: string;
  reporter_id: string;
  target_type: string;
  target_user_id: string | null;
  conversation_id: string | null;
  message_id: string | null;
  reason: string;
  details: string;
  verified: boolean;
  state: string;
  created_at: Date;
}

export const REPORT_VIEW = `select r.id, r.case_id, r.reporter_id, r.target_type, r.target_user_id, r.conversation_id, r.message_id, r.reason, r.details, r.verified, c.state, r.created_at
  from report r join moderation_case c on c.id = r.case_id`;

export async function reportById(em: EntityManager, id: string): Promise<ReportView> {
  const [row] = withDates(await sqlRows<ReportView>(em, `${REPORT_VIEW} where r.id = ?`, [id]), ['created_at']);
  return row!;
}
