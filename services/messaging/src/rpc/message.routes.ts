import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { MessageService } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { ackDeliveries } from '../domain/ack-deliveries.usecase.js';
import { getDeliveryStatus } from '../domain/delivery-status.usecase.js';
import { retractMessage } from '../domain/retract-message.usecase.js';
import { sendMessage } from '../domain/send-message.usecase.js';
import { toSendMessageResponse } from './messages.js';

/** MessageService: every handler authenticates, then calls one use case. */
export function messageRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(MessageService, {
      async sendMessage(req, ctx) {
        return toSendMessageResponse(await sendMessage(deps, requireCaller(ctx), req));
      },
      async retractMessage(req, ctx) {
        return retractMessage(deps, requireCaller(ctx), req);
      },
      async getDeliveryStatus(req, ctx) {
        return getDeliveryStatus(deps, requireCaller(ctx), req);
      },
      async ackDeliveries(req, ctx) {
        return ackDeliveries(deps, requireCaller(ctx), req);
      },
    });
}
