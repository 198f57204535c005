import type { ConnectRouter } from '@connectrpc/connect';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { requireCaller } from '@parley/platform';
import { MessageService } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { ackDeliveries } from '../domain/ack-deliveries.usecase.js';
import { getDeliveryStatus } from '../domain/delivery-status.usecase.js';
import { retractMessage } from '../domain/retract-message.usecase.js';
import { sendMessage } from '../domain/send-message.usecase.js';

/** MessageService: every handler authenticates, then calls one use case. */
export function messageRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(MessageService, {
      async sendMessage(req, ctx) {
        const sent = await sendMessage(deps, requireCaller(ctx), req);
        return { messageId: sent.messageId, seq: BigInt(sent.seq), sentAt: timestampFromDate(sent.sentAt), duplicate: sent.duplicate };
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
