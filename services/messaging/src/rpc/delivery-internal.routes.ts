import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { DeliveryInternalService } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { fetchDeliveries } from '../domain/fetch-deliveries.usecase.js';

/** DeliveryInternalService: the edge reads the calling device's queue for its Subscribe stream. */
export function deliveryInternalRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(DeliveryInternalService, {
      async fetchDeliveries(req, ctx) {
        return fetchDeliveries(deps, requireCaller(ctx), req);
      },
    });
}
