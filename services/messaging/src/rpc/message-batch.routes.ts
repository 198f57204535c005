import type { ConnectRouter } from '@connectrpc/connect';
import { serveBatch } from '@parley/platform';
import { MessageBatchService } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { ackDeliveries } from '../domain/ack-deliveries.usecase.js';
import { sendMessage } from '../domain/send-message.usecase.js';
import { toSendMessageResponse } from './messages.js';

/** MessageBatchService: the edge's batches of SendMessage and AckDeliveries, each item its own call. */
export function messageBatchRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(MessageBatchService, {
      async sendMessages({ items }) {
        return { results: await serveBatch(items, deps.tokens, deps.log, async (caller, req) => toSendMessageResponse(await sendMessage(deps, caller, req))) };
      },
      async ackDeliveriesBatch({ items }) {
        return { results: await serveBatch(items, deps.tokens, deps.log, (caller, req) => ackDeliveries(deps, caller, req)) };
      },
    });
}
