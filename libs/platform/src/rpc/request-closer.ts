import { createContextKey, type ContextValues, type HandlerContext } from '@connectrpc/connect';

/**
 * Closes the HTTP request a server-streaming call runs on, cutting its connection. A handler uses
 * it when its client stopped reading: the transport's write waits for a `drain` that never comes,
 * and only closing the request lets go of it. Both server paths (the fast path and connect-node)
 * set it for every call; elsewhere it does nothing.
 */
const requestCloserKey = createContextKey<() => void>(() => undefined, { description: 'closes the request' });

export function requestCloser(ctx: Pick<HandlerContext, 'values'>): () => void {
  return ctx.values.get(requestCloserKey);
}

export function setRequestCloser(values: ContextValues, close: () => void): ContextValues {
  return values.set(requestCloserKey, close);
}
