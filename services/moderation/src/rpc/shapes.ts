import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AuditEntrySchema,
  CaseSchema,
  CaseState,
  ReportReason,
  ReportSchema,
  ReportTargetType,
  SanctionSchema,
  type AuditEntry,
  type Case,
  type Report,
  type Sanction,
} from '@parley/proto';
import type { AuditEntryRow } from '../domain/audit-log.js';
import type { CaseRow } from '../domain/cases.js';
import type { ReportView } from '../domain/report-view.js';
import type { SanctionRow } from '../domain/standing.js';

const reason = (name: string) => ReportReason[name as keyof typeof ReportReason] ?? ReportReason.UNSPECIFIED;
const targetType = (name: string) => ReportTargetType[name as keyof typeof ReportTargetType] ?? ReportTargetType.UNSPECIFIED;
const caseState = (name: string) => CaseState[name.toUpperCase() as keyof typeof CaseState] ?? CaseState.UNSPECIFIED;

export function reportMessage(r: ReportView): Report {
  return create(ReportSchema, {
    id: r.id,
    caseId: r.case_id,
    targetType: targetType(r.target_type),
    targetUserId: r.target_user_id ?? '',
    conversationId: r.conversation_id ?? '',
    messageId: r.message_id ?? '',
    reason: reason(r.reason),
    details: r.details,
    verified: r.verified,
    state: caseState(r.state),
    createdAt: timestampFromDate(r.created_at),
  });
}

export function caseMessage(c: CaseRow): Case {
  return create(CaseSchema, {
    id: c.id,
    targetType: targetType(c.target_type),
    targetUserId: c.target_user_id ?? '',
    conversationId: c.conversation_id ?? '',
    messageId: c.message_id ?? '',
    reason: reason(c.reason),
    verified: c.verified,
    state: caseState(c.state),
    assigneeUserId: c.assignee_id ?? '',
    reportCount: c.report_count,
    createdAt: timestampFromDate(c.created_at),
    updatedAt: timestampFromDate(c.updated_at),
  });
}

export function sanctionMessage(s: SanctionRow, now: Date): Sanction {
  return create(SanctionSchema, {
    id: s.id,
    userId: s.user_id,
    kind: s.kind,
    reason: reason(s.reason),
    note: s.note,
    appliedByUserId: s.applied_by ?? '',
    caseId: s.case_id ?? '',
    createdAt: timestampFromDate(s.created_at),
    expiresAt: s.expires_at ? timestampFromDate(s.expires_at) : undefined,
    liftedAt: s.lifted_at ? timestampFromDate(s.lifted_at) : undefined,
    active: s.ended_at === null && (s.expires_at === null || s.expires_at > now),
  });
}

export function auditEntryMessage(e: AuditEntryRow): AuditEntry {
  return create(AuditEntrySchema, {
    seq: BigInt(e.seq),
    at: timestampFromDate(e.at),
    actor: e.actor,
    action: e.action,
    subjectUserId: e.subject_user_id ?? '',
    caseId: e.case_id ?? '',
    reason: e.reason,
    evidence: e.evidence,
    hash: e.hash,
  });
}
