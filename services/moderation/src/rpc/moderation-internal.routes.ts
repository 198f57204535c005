import type { ConnectRouter } from '@connectrpc/connect';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canonicalUuid } from '@parley/platform';
import { ModerationInternalService } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { rolesOf } from '../domain/roles.js';

/** ModerationInternalService: the edge's role lookup (internal: the edge never forwards it). */
export function moderationInternalRoutes(deps: ModerationDeps) {
  return (router: ConnectRouter) =>
    router.service(ModerationInternalService, {
      async getRoles(req) {
        return { roles: await rolesOf(deps.orm.em.fork() as EntityManager, canonicalUuid(req.userId)) };
      },
    });
}
