import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import { SanctionKind } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { appendAudit } from './audit-log.js';
import type { AutoModerationRules, RuleName, RuleSettings } from './auto-moderation-rules.js';
import { recordSanction } from './sanctions.js';
import { standingOf } from './standing.js';

/** Metadata moderation counts, per user: never content. */
export type ActivityKind = 'message.sent' | 'stranger.messaged' | 'report.verified' | 'block.received';

export interface Activity {
  userId: string;
  kind: ActivityKind;
  /** The other user, where distinct peers count (strangers messaged). */
  peerId?: string;
  at: Date;
}

type Deps = Pick<ModerationDeps, 'rules' | 'outbox'>;

/** The rule each kind of activity feeds. */
const RULE_OF: Record<ActivityKind, RuleName> = {
  'message.sent': 'sendsPerMinute',
  'stranger.messaged': 'newAccountStrangers',
  'report.verified': 'verifiedReports',
  'block.received': 'blocksReceived',
};

function threshold(rules: AutoModerationRules, rule: RuleName): number {
  const r = rules.rules;
  switch (rule) {
    case 'sendsPerMinute':
      return r.sendsPerMinute.limit;
    case 'newAccountStrangers':
      return r.newAccountStrangers.strangers;
    case 'verifiedReports':
      return r.verifiedReports.count;
    case 'blocksReceived':
      return r.blocksReceived.count;
  }
}

/**
 * Records one activity and evaluates the rule it feeds, in the caller's transaction: a rule hits
 * when its count within its window reaches the threshold (at most one hit per rule and window);
 * each hit adds its score to the user's risk and is audited with the counts; risk at the threshold
 * restricts the user automatically, unless a sanction at least as severe is in force.
 */
export async function recordActivity(em: EntityManager, deps: Deps, activity: Activity): Promise<void> {
  const name = RULE_OF[activity.kind];
  const rule: RuleSettings = deps.rules.rules[name];
  if (!rule.enabled) return;
  await sqlRows(em, `insert into activity (user_id, kind, peer_id, at) values (?, ?, ?, ?)`, [activity.userId, activity.kind, activity.peerId ?? null, activity.at]);
  // One evaluation per user at a time, so a burst hits a rule once.
  await sqlRows(em, `select pg_advisory_xact_lock(hashtext(?))`, [`auto-moderation:${activity.userId}`]);
  const since = new Date(activity.at.getTime() - rule.windowSeconds * 1000);
  const counted = activity.peerId ? 'count(distinct peer_id)' : 'count(*)';
  const [{ n }] = (await sqlRows<{ n: string }>(em, `select ${counted} as n from activity where user_id = ? and kind = ? and at > ? and at <= ?`, [
    activity.userId, activity.kind, since, activity.at,
  ])) as [{ n: string }];
  const count = Number(n);
  const limit = threshold(deps.rules, name);
  if (count < limit) return;
  const [recent] = await sqlRows(em, `select 1 from rule_hit where user_id = ? and rule = ? and at > ?`, [activity.userId, name, since]);
  if (recent) return;
  await sqlRows(em, `insert into rule_hit (user_id, rule, score, at) values (?, ?, ?, ?)`, [activity.userId, name, rule.score, activity.at]);
  const riskSince = new Date(activity.at.getTime() - deps.rules.riskWindowSeconds * 1000);
  const [{ risk }] = (await sqlRows<{ risk: string }>(em, `select coalesce(sum(score), 0) as risk from rule_hit where user_id = ? and at > ?`, [
    activity.userId, riskSince,
  ])) as [{ risk: string }];
  const explained = `${count} ${activity.kind}${activity.peerId ? ' (distinct users)' : ''} within ${rule.windowSeconds}s ≥ ${limit}`;
  await appendAudit(em, activity.at, {
    actor: `rule:${name}`,
    action: 'rule.hit',
    subjectUserId: activity.userId,
    reason: `${explained}: +${rule.score} risk, now ${risk} of ${deps.rules.riskThreshold}`,
    evidence: `activity:${activity.kind} count=${count} window=${rule.windowSeconds}s`,
  });
  if (Number(risk) < deps.rules.riskThreshold) return;
  const standing = await standingOf(em, activity.userId, activity.at);
  if (standing && standing.kind >= SanctionKind.RESTRICT) return;
  await recordSanction(em, deps, activity.at, `rule:${name}`, {
    userId: activity.userId,
    kind: SanctionKind.RESTRICT,
    durationMs: deps.rules.restrictionSeconds * 1000,
    reason: rule.reason,
    note: `automatic: risk ${risk} ≥ ${deps.rules.riskThreshold} (last hit: ${explained})`,
  });
}

/** Forgets activity and hits older than every window, so the tables hold only what rules can count. */
export async function pruneActivity(em: EntityManager, rules: AutoModerationRules, at: Date): Promise<void> {
  const longest = Math.max(rules.riskWindowSeconds, ...Object.values(rules.rules).map((r) => r.windowSeconds));
  const before = new Date(at.getTime() - longest * 1000);
  await sqlRows(em, `delete from activity where at < ?`, [before]);
  await sqlRows(em, `delete from rule_hit where at < ?`, [before]);
}
