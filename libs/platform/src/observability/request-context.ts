import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What one inbound call carries to everything it causes: logs, outgoing RPCs. */
export interface RequestContext {
  requestId: string;
  authorization?: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';
/** The app's network address, set by the edge on every call it forwards (and only by it). */
export const CLIENT_ADDRESS_HEADER = 'x-parley-client-address';
export const UNKNOWN_CLIENT_ADDRESS = 'unknown';

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

/**
 * The client address a call carries, or 'unknown' when it carries none. Only IP address
 * characters are accepted, so the value is safe as a rate-limit key and in logs.
 */
export function clientAddressFrom(header: string | null): string {
  const address = header?.trim();
  return address && /^[0-9A-Fa-f.:]{2,45}$/.test(address) ? address.toLowerCase() : UNKNOWN_CLIENT_ADDRESS;
}
