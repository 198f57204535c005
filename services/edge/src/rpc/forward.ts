import type { DescMethod, DescMethodUnary, DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type CallOptions, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import type { Admission } from '../moderation/role-gate.js';
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_PROOF_HEADER, REQUEST_ID_HEADER, currentRequest, internalRelay, internalTransport, type UnaryRelay } from '@parley/platform';

type AnyFn = (req: unknown, opts: CallOptions) => unknown;

/** What the edge passes on: the caller's credentials, address and request id; nothing else. */
function callOptions(ctx: HandlerContext): CallOptions & { headers: Record<string, string>; signal: AbortSignal } {
  const headers: Record<string, string> = {};
  const authorization = ctx.requestHeader.get('authorization');
  if (authorization) headers.authorization = authorization;
  const clientAddress = ctx.requestHeader.get(CLIENT_ADDRESS_HEADER);
  const proof = ctx.requestHeader.get(CLIENT_ADDRESS_PROOF_HEADER);
  if (clientAddress && proof) {
    headers[CLIENT_ADDRESS_HEADER] = clientAddress;
    headers[CLIENT_ADDRESS_PROOF_HEADER] = proof;
  }
  const requestId = currentRequest()?.requestId;
  if (requestId) headers[REQUEST_ID_HEADER] = requestId;
  return { headers, signal: ctx.signal, timeoutMs: ctx.timeoutMs() };
}

/**
 * Passes a backend's error on with its code, message and details, but not its metadata: those
 * are the backend's gRPC headers and would clobber the edge's own. A backend that can't be
 * reached is the caller's problem only as "try again". Internal and unknown failures may describe
 * the network between services, so they become a plain error that the edge logs and hides.
 */
function relayError(err: unknown, ctx: HandlerContext): never {
  const e = ConnectError.from(err);
  // A backend stream reset (e.g. the backend died mid-call) surfaces as CANCELED; only a client
  // that went away really cancelled, and anyone else should retry.
  const backendGone = e.code === Code.Canceled && !ctx.signal.aborted;
  if (e.code === Code.Unavailable || backendGone) throw new ConnectError('service temporarily unavailable; retry shortly', Code.Unavailable);
  if (e.code === Code.Internal || e.code === Code.Unknown || e.code === Code.DataLoss) throw new Error(e.message, { cause: err });
  const relayed = new ConnectError(e.rawMessage, e.code);
  relayed.details = e.details;
  throw relayed;
}

/**
 * Serves `service`'s unary methods over Connect unary (every app's usual call) by relaying the
 * caller's bytes to the same method on its backend and the answer's bytes back: the edge checks
 * the caller and passes the call on without decoding or encoding it. The backend decodes it as it
 * would any call (and refuses a malformed one the same way). Calls of one method that wait behind
 * one in flight go to the backend together (RelayService), so a busy edge's SendMessage and
 * AckDeliveries reach messaging in batches, which it stores in one transaction. With `admit`, a
 * call goes on only once it admits the caller.
 */
export function forwardRelays(service: DescService, backendUrl: string, admit?: Admission): UnaryRelay[] {
  const send = internalRelay(backendUrl);
  return service.methods
    .filter((method): method is DescMethodUnary => method.methodKind === 'unary')
    .map((method) => ({
      method,
      async send(body, binary, ctx) {
        await admit?.(ctx);
        return send(method, body, binary, callOptions(ctx)).catch((err: unknown) => relayError(err, ctx));
      },
    }));
}

/**
 * Serves `service` on the edge by calling the same method on its backend (streams, and what relays
 * don't take: gRPC-Web, compressed calls), once `admit`, if given, admits the caller.
 */
export function forwardRoutes(service: DescService, backendUrl: string, admit?: Admission) {
  const client = createClient(service, internalTransport(backendUrl, { onBehalfOfCaller: false })) as unknown as Record<string, AnyFn>;
  const impl: Record<string, (req: unknown, ctx: HandlerContext) => unknown> = {};
  for (const method of service.methods) impl[method.localName] = forwarder(method, client, admit);
  return (router: ConnectRouter) => router.service(service, impl as never);
}

function forwarder(method: DescMethod, client: Record<string, AnyFn>, admit?: Admission) {
  const call = client[method.localName]!;
  switch (method.methodKind) {
    case 'unary':
      return async (req: unknown, ctx: HandlerContext) => {
        await admit?.(ctx);
        try {
          return await call(req, callOptions(ctx));
        } catch (err) {
          relayError(err, ctx);
        }
      };
    case 'server_streaming':
      return async function* (req: unknown, ctx: HandlerContext) {
        await admit?.(ctx);
        try {
          yield* call(req, callOptions(ctx)) as AsyncIterable<unknown>;
        } catch (err) {
          relayError(err, ctx);
        }
      };
    default:
      throw new Error(`${method.parent.typeName}/${method.name}: browsers can't stream requests, so public RPCs are unary or server-streaming`);
  }
}
