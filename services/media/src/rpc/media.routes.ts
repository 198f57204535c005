import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller, requireUuid, rpcError } from '@parley/platform';
import { MediaService } from '@parley/proto';
import type { MediaDeps } from '../deps.js';
import { deleteAttachment } from '../domain/delete-attachment.usecase.js';
import { getAttachment } from '../domain/get-attachment.usecase.js';
import { grantAttachment } from '../domain/grant-attachment.usecase.js';

const ATTACHMENT_ID = /^[0-9a-f]{32}$/;

function requireAttachmentId(id: string): string {
  if (!ATTACHMENT_ID.test(id)) throw rpcError.invalidArgument('attachment_id must be the 32 hex digits of an upload\'s id (the last part of its Location)');
  return id;
}

/** MediaService: each handler authenticates, validates, calls one use case, shapes the answer. */
export function mediaRoutes(deps: MediaDeps) {
  return (router: ConnectRouter) =>
    router.service(MediaService, {
      async grantAttachment(req, ctx) {
        const caller = requireCaller(ctx);
        const input = { attachmentId: requireAttachmentId(req.attachmentId), conversationId: requireUuid(req.conversationId, 'conversation_id') };
        await grantAttachment(deps, caller, input);
        return {};
      },

      async deleteAttachment(req, ctx) {
        const caller = requireCaller(ctx);
        await deleteAttachment(deps, caller, { attachmentId: requireAttachmentId(req.attachmentId) });
        return {};
      },

      async getAttachment(req, ctx) {
        const caller = requireCaller(ctx);
        const a = await getAttachment(deps, caller, { attachmentId: requireAttachmentId(req.attachmentId) });
        return {
          attachment: {
            id: a.id,
            size: BigInt(a.size),
            sha256: a.sha256,
            contentType: a.contentType,
            completed: a.completedAt !== null,
            createdAt: timestampFromDate(a.createdAt),
            mine: a.ownerId === caller.userId,
          },
        };
      },
    });
}
