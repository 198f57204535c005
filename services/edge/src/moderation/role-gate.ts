import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { internalClient, requireCaller, rpcError } from '@parley/platform';
import { ModerationInternalService } from '@parley/proto';

/** Decides, before a call is passed on, whether its caller may make it; throws the refusal. */
export type Admission = (ctx: HandlerContext) => Promise<void>;

/**
 * Admits only callers holding a moderation role (moderator or admin). Roles live in moderation; the
 * edge asks it on every call, so a revoked role is refused at the next call, and holds no copy that
 * could go stale. Moderator traffic is a console's, so the extra internal call costs little.
 */
export function admitRoleHolders(moderationUrl: string): Admission {
  const moderation = internalClient(ModerationInternalService, moderationUrl, { onBehalfOfCaller: false });
  return async (ctx) => {
    const caller = requireCaller(ctx);
    const { roles } = await moderation.getRoles({ userId: caller.userId }, { signal: ctx.signal }).catch((err: unknown) => {
      throw new ConnectError('moderation is unavailable to check your role; retry shortly', Code.Unavailable, undefined, undefined, err);
    });
    if (roles.length === 0) throw rpcError.permissionDenied('ModeratorService is for moderators and admins only');
  };
}
