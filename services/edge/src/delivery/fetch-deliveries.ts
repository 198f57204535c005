import { createClient } from '@connectrpc/connect';
import { internalTransport } from '@parley/platform';
import { DeliveryInternalService } from '@parley/proto';
import type { FetchPage } from './delivery-stream.js';

const FETCH_TIMEOUT_MS = 10_000;

/**
 * Reads queues from messaging's DeliveryInternalService. Each stream's fetches carry its caller's
 * own Authorization, so messaging serves only the calling device's queue.
 */
export function deliveryFetcher(messagingUrl: string): (authorization: string) => FetchPage {
  const client = createClient(DeliveryInternalService, internalTransport(messagingUrl, { onBehalfOfCaller: false }));
  return (authorization) => (inFlightIds, limit) =>
    client.fetchDeliveries({ inFlightIds, limit }, { headers: { authorization }, timeoutMs: FETCH_TIMEOUT_MS });
}
