import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { MessageService } from '@parley/proto';
import { ackDeliveries } from '../domain/ack-deliveries.usecase.js';
import type { MessagingDeps } from '../domain/messaging-deps.js';

/** MessageService: every handler authenticates, then calls one use case. */
export function messageRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(MessageService, {
      async ackDeliveries(req, ctx) {
        return ackDeliveries(deps, requireCaller(ctx), req);
      },
    });
}
