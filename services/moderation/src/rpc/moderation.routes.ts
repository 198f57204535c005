import type { ConnectRouter } from '@connectrpc/connect';
import { canonicalUuid, requireCaller, type Caller } from '@parley/platform';
import { ModerationService, ReportTargetType } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { listMyReports } from '../domain/list-my-reports.usecase.js';
import { submitReport, type ReportInput } from '../domain/submit-report.usecase.js';
import { reportMessage } from './shapes.js';

/** ModerationService: any signed-in user reports, within the per-reporter limit, and follows their reports. */
export function moderationRoutes(deps: ModerationDeps) {
  const report = async (caller: Caller, input: ReportInput) => {
    await deps.rateLimits.reports.enforce(caller.userId, 'too many reports');
    return { report: reportMessage(await submitReport(deps, caller, input)) };
  };
  return (router: ConnectRouter) =>
    router.service(ModerationService, {
      async reportUser(req, ctx) {
        const target = { type: ReportTargetType.USER, userId: canonicalUuid(req.userId) } as const;
        return report(requireCaller(ctx), { target, reason: req.reason, details: req.details, block: req.block });
      },

      async reportMessage(req, ctx) {
        const target = {
          type: ReportTargetType.MESSAGE,
          conversationId: canonicalUuid(req.conversationId),
          messageId: canonicalUuid(req.messageId),
          senderUserId: canonicalUuid(req.senderUserId),
          evidence: req.evidence,
        } as const;
        return report(requireCaller(ctx), { target, reason: req.reason, details: req.details, block: req.block });
      },

      async reportConversation(req, ctx) {
        const target = { type: ReportTargetType.CONVERSATION, conversationId: canonicalUuid(req.conversationId) } as const;
        return report(requireCaller(ctx), { target, reason: req.reason, details: req.details, block: false });
      },

      async listMyReports(req, ctx) {
        const page = await listMyReports(deps, requireCaller(ctx), { pageSize: req.pageSize, pageToken: req.pageToken });
        return { reports: page.reports.map(reportMessage), nextPageToken: page.nextPageToken };
      },
    });
}
