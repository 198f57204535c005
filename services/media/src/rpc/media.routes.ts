import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { MediaService } from '@parley/proto';
import type { MediaDeps } from '../deps.js';
import { deleteAttachment } from '../domain/delete-attachment.usecase.js';
import { getAttachment } from '../domain/get-attachment.usecase.js';
import { grantAttachment } from '../domain/grant-attachment.usecase.js';

/** MediaService: each handler authenticates and calls one use case (ids are checked by the contract's rules). */
export function mediaRoutes(deps: MediaDeps) {
  return (router: ConnectRouter) =>
    router.service(MediaService, {
      async grantAttachment(req, ctx) {
        const caller = requireCaller(ctx);
        await grantAttachment(deps, caller, { attachmentId: req.attachmentId, conversationId: req.conversationId });
        return {};
      },

      async deleteAttachment(req, ctx) {
        const caller = requireCaller(ctx);
        await deleteAttachment(deps, caller, { attachmentId: req.attachmentId });
        return {};
      },

      async getAttachment(req, ctx) {
        const caller = requireCaller(ctx);
        const a = await getAttachment(deps, caller, { attachmentId: req.attachmentId });
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
