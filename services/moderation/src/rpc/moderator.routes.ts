import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { durationMs } from '@bufbuild/protobuf/wkt';
import { canonicalUuid, requireCaller } from '@parley/platform';
import { ModeratorService, Role, SanctionKind } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { verifyAuditChain } from '../domain/audit-log.js';
import { addCaseNote, assignCase, closeCase, getCase, listCases } from '../domain/cases.js';
import { listAuditLog } from '../domain/list-audit-log.usecase.js';
import { grantRole, requireRole, revokeRole } from '../domain/roles.js';
import { applySanction, liftSanctions, listSanctions } from '../domain/sanctions.js';
import { standingOf } from '../domain/standing.js';
import { caseStats } from '../domain/stats.usecase.js';
import { auditEntryMessage, caseMessage, reportMessage, sanctionMessage } from './shapes.js';

const counts = (m: Map<string, number>) => [...m].map(([key, count]) => ({ key, count: BigInt(count) }));

/** ModeratorService: each handler checks the caller's role (the edge did too), then calls one use case. */
export function moderatorRoutes(deps: ModerationDeps) {
  const moderator = async (ctx: HandlerContext) => {
    const caller = requireCaller(ctx);
    await requireRole(deps, caller, Role.MODERATOR);
    return caller;
  };
  const admin = async (ctx: HandlerContext) => {
    const caller = requireCaller(ctx);
    await requireRole(deps, caller, Role.ADMIN);
    return caller;
  };
  return (router: ConnectRouter) =>
    router.service(ModeratorService, {
      async listCases(req, ctx) {
        await moderator(ctx);
        const page = await listCases(deps, { states: req.states, reason: req.reason, verified: req.verified, pageSize: req.pageSize, pageToken: req.pageToken });
        return { cases: page.cases.map(caseMessage), nextPageToken: page.nextPageToken };
      },

      async getCase(req, ctx) {
        await moderator(ctx);
        const { kase, reports, notes } = await getCase(deps, canonicalUuid(req.caseId));
        return {
          case: caseMessage(kase),
          reports: reports.map(reportMessage),
          reporterUserIds: reports.map((r) => r.reporter_id),
          notes: notes.map((n) => ({ authorUserId: n.author_id, text: n.text, createdAt: timestampFromDate(n.created_at) })),
        };
      },

      async assignCase(req, ctx) {
        const caller = await moderator(ctx);
        return { case: caseMessage(await assignCase(deps, caller, { caseId: canonicalUuid(req.caseId), assigneeUserId: canonicalUuid(req.assigneeUserId) })) };
      },

      async addCaseNote(req, ctx) {
        const caller = await moderator(ctx);
        await addCaseNote(deps, caller, { caseId: canonicalUuid(req.caseId), text: req.text });
        return {};
      },

      async closeCase(req, ctx) {
        const caller = await moderator(ctx);
        return { case: caseMessage(await closeCase(deps, caller, { caseId: canonicalUuid(req.caseId), state: req.state, note: req.note })) };
      },

      async applySanction(req, ctx) {
        const caller = await moderator(ctx);
        const sanction = await applySanction(deps, caller, {
          userId: canonicalUuid(req.userId),
          kind: req.kind,
          durationMs: req.duration ? durationMs(req.duration) : undefined,
          reason: req.reason,
          note: req.note,
          caseId: req.caseId ? canonicalUuid(req.caseId) : undefined,
        });
        return { sanction: sanctionMessage(sanction, new Date(deps.clock.now())) };
      },

      async liftSanction(req, ctx) {
        const caller = await moderator(ctx);
        return { lifted: await liftSanctions(deps, caller, { userId: canonicalUuid(req.userId), note: req.note }) };
      },

      async listSanctions(req, ctx) {
        await moderator(ctx);
        const userId = canonicalUuid(req.userId);
        const now = new Date(deps.clock.now());
        const standing = await standingOf(deps.orm.em.fork() as never, userId, now);
        return { sanctions: (await listSanctions(deps, userId)).map((s) => sanctionMessage(s, now)), standing: standing?.kind ?? SanctionKind.NONE };
      },

      async grantRole(req, ctx) {
        const caller = await admin(ctx);
        await grantRole(deps, caller, { userId: canonicalUuid(req.userId), role: req.role });
        return {};
      },

      async revokeRole(req, ctx) {
        const caller = await admin(ctx);
        await revokeRole(deps, caller, { userId: canonicalUuid(req.userId), role: req.role });
        return {};
      },

      async listAuditLog(req, ctx) {
        await moderator(ctx);
        const page = await listAuditLog(deps, { subjectUserId: canonicalUuid(req.subjectUserId), pageSize: req.pageSize, pageToken: req.pageToken });
        return { entries: page.entries.map(auditEntryMessage), nextPageToken: page.nextPageToken };
      },

      async verifyAuditLog(_req, ctx) {
        await moderator(ctx);
        const check = await verifyAuditChain(deps.orm.em.fork() as never);
        return { intact: check.intact, entriesChecked: BigInt(check.entriesChecked), firstBrokenSeq: check.firstBrokenSeq };
      },

      async getStats(req, ctx) {
        await moderator(ctx);
        const stats = await caseStats(deps, req.window ? durationMs(req.window) : undefined);
        return {
          byState: counts(stats.byState),
          byTargetType: counts(stats.byTargetType),
          byReason: counts(stats.byReason),
          byVerified: counts(stats.byVerified),
          reports: BigInt(stats.reports),
        };
      },
    });
}
