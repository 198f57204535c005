import { createClient, type HandlerContext } from '@connectrpc/connect';
import { batchedMethod, currentRequest, internalTransport, type BatcherOptions } from '@parley/platform';
import { MessageBatchService, type AckDeliveriesRequest, type AckDeliveriesResponse, type SendMessageRequest, type SendMessageResponse } from '@parley/proto';
import { relayError } from './forward.js';

/** Batches in flight to messaging per method, and the most calls one batch carries. */
const BATCHES: BatcherOptions = { concurrency: 4, maxBatch: 64 };

/**
 * SendMessage and AckDeliveries, every device's most frequent calls, go to messaging in batches
 * (MessageBatchService): what arrives while batches are in flight goes together in the next.
 * Each client still gets its own answer or error, as from a forwarded call.
 */
export function messageBatching(messagingUrl: string) {
  const client = createClient(MessageBatchService, internalTransport(messagingUrl, { onBehalfOfCaller: false }));
  const send = batchedMethod<SendMessageRequest, SendMessageResponse>(async (items) => (await client.sendMessages({ items })).results, BATCHES);
  const ack = batchedMethod<AckDeliveriesRequest, AckDeliveriesResponse>(async (items) => (await client.ackDeliveriesBatch({ items })).results, BATCHES);
  const callerOf = (ctx: HandlerContext) => ({ authorization: ctx.requestHeader.get('authorization') ?? '', requestId: currentRequest()?.requestId ?? '' });
  return {
    async sendMessage(req: SendMessageRequest, ctx: HandlerContext) {
      try {
        return await send(callerOf(ctx), req);
      } catch (err) {
        relayError(err, ctx);
      }
    },
    async ackDeliveries(req: AckDeliveriesRequest, ctx: HandlerContext) {
      try {
        return await ack(callerOf(ctx), req);
      } catch (err) {
        relayError(err, ctx);
      }
    },
  };
}
