import type { DescMethodUnary } from '@bufbuild/protobuf';
import type { HandlerContext, UnaryRequest, UnaryResponse } from '@connectrpc/connect';
import type { CallCarrier, FastRoute } from './fast-path.js';

/**
 * A unary method another server answers: the caller's bytes go to it as they came and its answer's
 * bytes come back, in the caller's format (binary or JSON), through the same interceptors, with no
 * decoding and encoding in between. What an interceptor asks of the request's or the answer's
 * message is decoded when it asks.
 */
export interface UnaryRelay {
  method: DescMethodUnary;
  /** Resolves with the answer's body in the format of `body`, or rejects with the error to answer. */
  send(body: Uint8Array, binary: boolean, ctx: HandlerContext): Promise<Uint8Array>;
}

/** What a relayed call's request carries besides the (lazy) message: the body as it came. */
interface RelayedBody {
  relayedBody: { bytes: Uint8Array; binary: boolean };
}

/** A relay's answer bytes, by the response that carries them, for as long as that response lives. */
const answers = new WeakMap<object, Uint8Array>();

/** The fast path's route for `relay`: `serveUnary` hands it the body undecoded (see `relayedRequest`). */
export function relayRoute(relay: UnaryRelay, serialization: FastRoute['serialization'], wrap: (call: FastRoute['invoke']) => FastRoute['invoke']): FastRoute {
  const { method } = relay;
  const call = async (req: UnaryRequest): Promise<UnaryResponse> => {
    const { bytes, binary } = (req as unknown as RelayedBody).relayedBody;
    const ctx = (req as unknown as CallCarrier).call.handlerContext;
    const handlerCtx: HandlerContext = { ...ctx, signal: req.signal, requestHeader: req.header, values: req.contextValues };
    const answer = await relay.send(bytes, binary, handlerCtx);
    const response = lazily<UnaryResponse>(
      { stream: false, service: method.parent, method, header: ctx.responseHeader, trailer: ctx.responseTrailer },
      () => serialization.getO(binary).parse(answer),
    );
    answers.set(response, answer);
    return response;
  };
  return { method, serialization, invoke: wrap(call as FastRoute['invoke']), relayed: true };
}

/** A relayed call's request: its body as it came, and a message decoded only if an interceptor reads it. */
export function relayedRequest<R extends object>(fields: R, bytes: Uint8Array, binary: boolean, decode: () => unknown): R {
  return lazily({ ...fields, relayedBody: { bytes, binary } }, decode) as unknown as R;
}

/** The answer's bytes as the backend sent them, if `response` is a relay's (and no interceptor replaced it). */
export function relayedAnswer(response: object): Uint8Array | undefined {
  return answers.get(response);
}

/** `fields` with a `message` decoded on first use (and then kept). */
function lazily<T extends { message: unknown }>(fields: Omit<T, 'message'>, decode: () => T['message']): T {
  let message: T['message'] | undefined;
  return Object.defineProperty(fields, 'message', {
    enumerable: true,
    get: () => (message ??= decode()),
    set: (value: T['message']) => (message = value),
  }) as T;
}
