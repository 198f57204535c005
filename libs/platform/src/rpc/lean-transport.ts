import http from 'node:http';
import { create, isMessage, type DescMessage, type DescMethod, type DescMethodStreaming, type DescMethodUnary, type MessageInitShape } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextValues,
  type ContextValues,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import { createMethodSerializationLookup, type MethodSerializationLookup } from '@connectrpc/connect/protocol';
import { LiteHeaders } from './lite-headers.js';
import { postStream, postUnary, type Target } from './lean-transport-calls.js';

export interface LeanTransportOptions {
  /** e.g. http://127.0.0.1:50051 */
  baseUrl: string;
  interceptors?: readonly Interceptor[];
  /** Where client and bidi streams go: a connect-node transport to the same server. */
  streams: Transport;
  /** Connections are kept alive and reused; one per call in flight. */
  agent?: http.Agent;
}

/** The keep-alive connections the lean transport and relays share. */
export const sharedAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });

type Serialization = MethodSerializationLookup<DescMessage, DescMessage>;

/**
 * A client transport for the Connect protocol (binary, HTTP/1.1 keep-alive) written on plain Node
 * requests: unary calls and server streams cost a few tens of µs of CPU where connect-node's
 * transports spend about 150 (HTTP/1.1) to 180 (gRPC over HTTP/2). Client and bidi streams go to
 * `streams`. Errors are Connect's: a server that can't be reached or that drops the connection
 * mid-call is UNAVAILABLE (retry), a deadline DEADLINE_EXCEEDED, an aborted signal CANCELED.
 */
export function createLeanTransport(opts: LeanTransportOptions): Transport {
  const url = new URL(opts.baseUrl);
  const target: Target = { host: url.hostname, port: Number(url.port || 80), agent: opts.agent ?? sharedAgent };
  const base = url.pathname.replace(/\/$/, '');
  const interceptors = opts.interceptors ?? [];
  const serializations = new WeakMap<DescMethod, Serialization>();
  const serializationOf = (method: DescMethod) => {
    let s = serializations.get(method);
    if (!s) {
      s = createMethodSerializationLookup(method as DescMethodUnary, undefined, undefined, { readMaxBytes: Number.MAX_SAFE_INTEGER, writeMaxBytes: Number.MAX_SAFE_INTEGER });
      serializations.set(method, s);
    }
    return s;
  };
  const intercepted = <R, S>(last: (req: R) => Promise<S>) => interceptors.reduceRight((next, interceptor) => interceptor(next as never) as never, last);
  const common = (method: DescMethod, signal: AbortSignal | undefined, header: Parameters<Transport['unary']>[3], contextValues: ContextValues | undefined) => {
    const path = `${base}/${method.parent.typeName}/${method.name}`;
    return {
      service: method.parent,
      requestMethod: 'POST',
      url: `${url.origin}${path}`,
      signal: signal ?? new AbortController().signal,
      header: headersOf(header),
      contextValues: contextValues ?? createContextValues(),
    };
  };
  return {
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: Parameters<Transport['unary']>[3],
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const request = { ...common(method, signal, header, contextValues), stream: false, method, message: isMessage(input, method.input) ? input : create(method.input, input) };
      const send = (req: UnaryRequest) => postUnary(target, req, serializationOf(req.method), timeoutMs);
      return intercepted(send)(request as unknown as UnaryRequest) as Promise<UnaryResponse<I, O>>;
    },
    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: Parameters<Transport['stream']>[3],
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ): Promise<StreamResponse<I, O>> {
      if (method.methodKind !== 'server_streaming') return opts.streams.stream(method, signal, timeoutMs, header, input, contextValues);
      const request = { ...common(method, signal, header, contextValues), stream: true, method, message: input };
      const send = (req: StreamRequest) => postStream(target, req, serializationOf(req.method), timeoutMs);
      return intercepted(send)(request as unknown as StreamRequest) as Promise<StreamResponse<I, O>>;
    },
  };
}

function headersOf(init: Parameters<Transport['unary']>[3]): LiteHeaders {
  if (!init) return new LiteHeaders();
  if (init instanceof LiteHeaders) return init;
  const headers = new LiteHeaders();
  if (Array.isArray(init)) for (const [k, v] of init) headers.append(k!, v!);
  else if (typeof (init as Headers).forEach === 'function') (init as Headers).forEach((v, k) => headers.append(k, v));
  else for (const [k, v] of Object.entries(init)) headers.set(k, v as string);
  return headers;
}

/** The first message of a server stream's input: the one it may have. */
export async function onlyInput<T>(input: AsyncIterable<T>): Promise<T> {
  for await (const message of input) return message;
  throw new ConnectError('a server-streaming call needs one input message', Code.InvalidArgument);
}
