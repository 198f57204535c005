import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What one inbound call carries to everything it causes: logs, outgoing RPCs. */
export interface RequestContext {
  requestId: string;
  authorization?: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';

/** The client's network address, as the edge saw it; set only by the edge, never by clients. */
export const CLIENT_ADDRESS_HEADER = 'x-parley-client-address';

const storage = new AsyncLocalStorage<RequestContext>();

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

export function runInRequest<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** Accepts a caller's request id only when it is short and printable, so logs can't be polluted. */
export function requestIdFrom(header: string | null): string {
  return header && /^[A-Za-z0-9._:-]{1,64}$/.test(header) ? header : randomUUID();
}
