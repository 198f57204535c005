import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { currentRequest, REQUEST_ID_HEADER } from '../observability/request-context.js';

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
 * gRPC over HTTP/2 cleartext to another Parley service. `onBehalfOfCaller: false` is for the
 * process's own calls, which must not carry the current caller's credentials.
 */
export function internalTransport(baseUrl: string, opts: { onBehalfOfCaller?: boolean } = {}): Transport {
  return createGrpcTransport({ baseUrl, interceptors: opts.onBehalfOfCaller === false ? [] : [propagateRequest] });
}

export function internalClient<S extends DescService>(service: S, baseUrl: string, opts: { onBehalfOfCaller?: boolean } = {}): Client<S> {
  return createClient(service, internalTransport(baseUrl, opts));
}
