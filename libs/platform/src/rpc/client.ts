import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { currentRequest, REQUEST_ID_HEADER } from '../observability/request-context.js';
import { createLeanTransport } from './lean-transport.js';
import { createRelaySend, type RelaySend } from './relay-send.js';

export type { RelayOptions, RelaySend } from './relay-send.js';

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
 * The Connect protocol over HTTP/1.1 keep-alive to another Parley service (see startRpcServer),
 * on the lean transport. `onBehalfOfCaller: false` is for the process's own calls, which must not
 * carry the current caller's credentials.
 */
export function internalTransport(baseUrl: string, opts: { onBehalfOfCaller?: boolean } = {}): Transport {
  const interceptors = opts.onBehalfOfCaller === false ? [] : [propagateRequest];
  return createLeanTransport({ baseUrl, interceptors, streams: createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors }) });
}

export function internalClient<S extends DescService>(service: S, baseUrl: string, opts: { onBehalfOfCaller?: boolean } = {}): Client<S> {
  return createClient(service, internalTransport(baseUrl, opts));
}

/**
 * Relays unary calls' bytes (binary or JSON, as a client sent them) to another Parley service over
 * the same keep-alive HTTP/1.1 as `internalTransport`, for a server's `relays`. The caller names
 * what goes with each call: nothing of the current request is added.
 */
export function internalRelay(baseUrl: string): RelaySend {
  return createRelaySend(baseUrl);
}
