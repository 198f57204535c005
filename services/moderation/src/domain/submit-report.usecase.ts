import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows, type Caller } from '@parley/platform';
import { ReportReason, ReportTargetType, type FrankingEvidence } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { recordActivity } from './auto-moderation.js';
import { verifyFrankingEvidence } from './franking-evidence.js';
import { reportById, type ReportView } from './report-view.js';
import { requireKnownUser } from './users.js';

export type ReportTarget =
  | { type: ReportTargetType.USER; userId: string }
  | { type: ReportTargetType.MESSAGE; conversationId: string; messageId: string; senderUserId: string; evidence?: FrankingEvidence }
  | { type: ReportTargetType.CONVERSATION; conversationId: string };

export interface ReportInput {
  target: ReportTarget;
  reason: ReportReason;
  details: string;
  /** Also block the reported user through auth, in the same call. */
  block: boolean;
}

function targetKey(t: ReportTarget): string {
  switch (t.type) {
    case ReportTargetType.USER:
      return `user:${t.userId}`;
    case ReportTargetType.MESSAGE:
      return `message:${t.conversationId}/${t.messageId}`;
    case ReportTargetType.CONVERSATION:
      return `conversation:${t.conversationId}`;
  }
}

async function requireMember(em: EntityManager, conversationId: string, userIds: string[]): Promise<void> {
  const [row] = await sqlRows(em, `select 1 from conversation_members where conversation_id = ? and member_ids @> ?::uuid[]`, [conversationId, userIds]);
  if (!row) throw rpcError.notFound(`you are not a member of a conversation with id ${conversationId}${userIds.length > 1 ? ' with that sender' : ''}`);
}

/**
 * Files a report: checks the target (a known account other than the caller; a conversation the
 * caller is in), verifies franking evidence if any (refusing forgeries and replays), folds it into
 * the target's open case (a reporter's second report of one case is answered with the first), and
 * blocks through auth if asked. Nothing is stored unless all of it succeeds.
 */
export async function submitReport(deps: Pick<ModerationDeps, 'orm' | 'clock' | 'keyring' | 'contacts' | 'rules' | 'outbox'>, caller: Caller, input: ReportInput): Promise<ReportView> {
  const { target } = input;
  const targetUserId = target.type === ReportTargetType.USER ? target.userId : target.type === ReportTargetType.MESSAGE ? target.senderUserId : null;
  if (targetUserId === caller.userId) throw rpcError.invalidArgument('you cannot report yourself');
  if (target.type === ReportTargetType.MESSAGE && target.evidence) {
    await verifyFrankingEvidence(deps.keyring, { reporterUserId: caller.userId, ...target }, target.evidence);
  }
  const verified = target.type === ReportTargetType.MESSAGE && target.evidence !== undefined;
  const tag = verified ? Buffer.from(target.evidence!.reportingTag!.tag) : null;
  const reportId = await deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const at = new Date(deps.clock.now());
    // Membership first: a non-member learns nothing, not even whether the sender exists.
    if (target.type !== ReportTargetType.USER) await requireMember(em, target.conversationId, targetUserId ? [caller.userId, targetUserId] : [caller.userId]);
    if (targetUserId) await requireKnownUser(em, targetUserId);
    if (tag) {
      const [replayed] = await sqlRows(em, `select 1 from report where reporting_tag = ?`, [tag]);
      if (replayed) throw rpcError.alreadyExists('unverified: this reporting tag was already reported (a replay); a message is reported once');
    }
    const key = targetKey(target);
    const conversationId = target.type === ReportTargetType.USER ? null : target.conversationId;
    const messageId = target.type === ReportTargetType.MESSAGE ? target.messageId : null;
    await sqlRows(
      em,
      `insert into moderation_case (id, target_type, target_key, target_user_id, conversation_id, message_id, reason, verified, state, report_count, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, false, 'open', 0, ?, ?) on conflict (target_key) where state in ('open', 'in_review') do nothing`,
      [randomUUID(), ReportTargetType[target.type], key, targetUserId, conversationId, messageId, ReportReason[input.reason], at, at],
    );
    const [kase] = await sqlRows<{ id: string }>(em, `select id from moderation_case where target_key = ? and state in ('open', 'in_review') for update`, [key]);
    const [earlier] = await sqlRows<{ id: string }>(em, `select id from report where reporter_id = ? and case_id = ?`, [caller.userId, kase!.id]);
    if (earlier && !verified) return earlier.id;
    if (earlier) {
      // A reporter who adds evidence to an earlier report of the message makes it verified.
      await sqlRows(em, `update report set verified = true, reporting_tag = ? where id = ?`, [tag, earlier.id]);
    } else {
      await sqlRows(
        em,
        `insert into report (id, case_id, reporter_id, target_type, target_user_id, conversation_id, message_id, reason, details, verified, reporting_tag, created_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [randomUUID(), kase!.id, caller.userId, ReportTargetType[target.type], targetUserId, conversationId, messageId, ReportReason[input.reason], input.details, verified, tag, at],
      );
    }
    await sqlRows(em, `update moderation_case set report_count = (select count(*) from report where case_id = ?), verified = verified or ?, updated_at = ? where id = ?`, [
      kase!.id, verified, at, kase!.id,
    ]);
    if (verified && targetUserId) await recordActivity(em, deps, { userId: targetUserId, kind: 'report.verified', at });
    // Last: a refused block rolls the report back, and a report that can't commit leaves only a harmless block.
    if (input.block && targetUserId) await deps.contacts.blockUser({ userId: targetUserId });
    const [mine] = await sqlRows<{ id: string }>(em, `select id from report where reporter_id = ? and case_id = ?`, [caller.userId, kase!.id]);
    return mine!.id;
  });
  return reportById(deps.orm.em.fork() as EntityManager, reportId);
}
