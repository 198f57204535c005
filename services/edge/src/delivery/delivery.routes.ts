import { create } from '@bufbuild/protobuf';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { requestCloser, requireCaller } from '@parley/platform';
import { DeliveryService, SubscribeResponseSchema, type SubscribeResponse } from '@parley/proto';
import type { EdgeDeps } from '../deps.js';

/** DeliveryService, served by the edge itself: Subscribe streams the calling device's queue. */
export function deliveryRoutes({ hub, fetchDeliveries, streamMetrics }: EdgeDeps) {
  return (router: ConnectRouter) =>
    router.service(DeliveryService, {
      async *subscribe(_req, ctx: HandlerContext): AsyncGenerator<SubscribeResponse> {
        const caller = requireCaller(ctx);
        // requireCaller passed, so the header holds a verified bearer token.
        const open = await hub.open(caller, fetchDeliveries(ctx.requestHeader.get('authorization')!), requestCloser(ctx));
        // The stream (and all it holds) ends when the client goes, even while a write waits for it to read.
        const left = () => open.stream.end('client_closed');
        ctx.signal.addEventListener('abort', left, { once: true });
        if (ctx.signal.aborted) left();
        try {
          for await (const event of open.stream.events()) {
            if (event.case === 'delivery') {
              streamMetrics.delivered(event.path, event.value);
              yield create(SubscribeResponseSchema, { event: { case: 'delivery', value: event.value } });
            } else yield create(SubscribeResponseSchema, { event });
          }
        } finally {
          ctx.signal.removeEventListener('abort', left);
          hub.close(open);
        }
      },
    });
}
