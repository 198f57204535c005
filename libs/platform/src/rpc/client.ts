import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { currentRequest, REQUEST_ID_HEADER } from '../observability/request-context.js';
import { createUnaryTransport } from './unary-transport.js';

/** Carries the inbound call's request id and credentials to the services it calls. */
const propagateRequest: Interceptor = (next) => (req) => {
  const ctx = currentRequest();
  if (ctx) {
    req.header.set(REQUEST_ID_HEADER, ctx.requestId);
    if (ctx.authorization && !req.header.has('authorization')) req.header.set('authorization', ctx.authorization);
  }
  return next(req);
};

/**
 * The Connect protocol over HTTP/1.1 keep-alive to another Parley service (see startRpcServer):
 * unary calls on the lean transport, streams through connect-node. `onBehalfOfCaller: false` is
 * for the process's own calls, which must not carry the current caller's credentials.
 */
export function internalTransport(baseUrl: string, opts: { onBehalfOfCaller?: boolean } = {}): Transport {
  const interceptors = opts.onBehalfOfCaller === false ? [] : [propagateRequest];
  return createUnaryTransport({ baseUrl, interceptors, streams: createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors }) });
}

export function internalClient<S extends DescService>(service: S, baseUrl: string, opts: { onBehalfOfCaller?: boolean } = {}): Client<S> {
  return createClient(service, internalTransport(baseUrl, opts));
}
