import http from 'node:http';
import { create, isMessage, type DescMessage } from '@bufbuild/protobuf';
import { Code, ConnectError, type StreamRequest, type StreamResponse, type UnaryRequest, type UnaryResponse } from '@connectrpc/connect';
import { encodeEnvelope, type MethodSerializationLookup } from '@connectrpc/connect/protocol';
import { codeFromHttpStatus, endStreamFlag, endStreamFromJson, errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import { LiteHeaders } from './lite-headers.js';
import { onlyInput } from './lean-transport.js';

export interface Target {
  host: string;
  port: number;
  agent: http.Agent;
}

type Serialization = MethodSerializationLookup<DescMessage, DescMessage>;

/** What an exchange sends besides its body. */
interface Outgoing {
  path: string;
  header: Record<string, string | number>;
  signal: AbortSignal;
}

const outgoingOf = (req: UnaryRequest | StreamRequest): Outgoing => ({
  path: new URL(req.url).pathname,
  header: { ...(req.header as LiteHeaders).record() },
  signal: req.signal,
});

/** One HTTP exchange, settled once: by the response, an error, the caller's signal or the deadline. */
function exchange<T>(
  target: Target,
  out: Outgoing,
  body: Uint8Array,
  contentType: string,
  timeoutMs: number | undefined,
  onResponse: (incoming: http.IncomingMessage, settle: (err: ConnectError | undefined, value?: T) => void, outgoing: http.ClientRequest) => void,
): Promise<T> {
  const { signal } = out;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(canceled(signal));
    const headers = out.header;
    headers['content-type'] = contentType;
    headers['connect-protocol-version'] = '1';
    headers['content-length'] = body.byteLength;
    if (timeoutMs !== undefined && timeoutMs > 0) headers['connect-timeout-ms'] = String(Math.ceil(timeoutMs));
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const settle = (err: ConnectError | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => {
      outgoing.destroy();
      settle(canceled(signal));
    };
    const outgoing = http.request({ ...target, method: 'POST', path: out.path, headers }, (incoming) => onResponse(incoming, settle, outgoing));
    outgoing.once('error', (err) => settle(unreachable(err)));
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs > 0) {
      deadline = setTimeout(() => {
        outgoing.destroy();
        settle(new ConnectError('the operation timed out', Code.DeadlineExceeded));
      }, timeoutMs);
    }
    outgoing.end(body);
  });
}

/** A whole answer's bytes. */
function readAll(incoming: http.IncomingMessage, settle: (err: ConnectError | undefined) => void, done: (bytes: Buffer) => void): void {
  const chunks: Buffer[] = [];
  incoming.on('data', (c: Buffer) => chunks.push(c));
  incoming.once('error', (err) => settle(unreachable(err)));
  incoming.once('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

/**
 * A Connect unary call of bytes already encoded (`binary` or JSON): resolves with the answer's
 * bytes in the same format, or rejects with its error.
 */
export function postBytes(target: Target, out: Outgoing, body: Uint8Array, binary: boolean, timeoutMs: number | undefined): Promise<Uint8Array> {
  const contentType = binary ? 'application/proto' : 'application/json';
  return exchange<Uint8Array>(target, out, body, contentType, timeoutMs, (incoming, settle) =>
    readAll(incoming, settle, (bytes) => {
      const { header } = headersOf(incoming);
      if (incoming.statusCode === 200 && header.get('content-type') === contentType) settle(undefined, bytes);
      else settle(errorOf(incoming.statusCode ?? 0, bytes, header));
    }),
  );
}

export function postUnary(target: Target, req: UnaryRequest, serialization: Serialization, timeoutMs: number | undefined): Promise<UnaryResponse> {
  const body = serialization.getI(true).serialize(req.message);
  return exchange<UnaryResponse>(target, outgoingOf(req), body, 'application/proto', timeoutMs, (incoming, settle) =>
    readAll(incoming, settle, (bytes) => {
      const { header, trailer } = headersOf(incoming);
      if (incoming.statusCode === 200 && header.get('content-type') === 'application/proto') {
        try {
          settle(undefined, { stream: false, service: req.service, method: req.method, header, trailer, message: serialization.getO(true).parse(bytes) } as UnaryResponse);
        } catch (err) {
          settle(ConnectError.from(err));
        }
        return;
      }
      settle(errorOf(incoming.statusCode ?? 0, bytes, header));
    }),
  );
}

/**
 * A server stream: resolves with the response headers, and its messages as they arrive; the
 * end-stream message's trailers land in `trailer`, its error is thrown by the iteration.
 */
export async function postStream(target: Target, req: StreamRequest, serialization: Serialization, timeoutMs: number | undefined): Promise<StreamResponse> {
  const first = await onlyInput(req.message);
  const input = isMessage(first, req.method.input) ? first : create(req.method.input, first as never);
  const body = encodeEnvelope(0, serialization.getI(true).serialize(input));
  return exchange<StreamResponse>(target, outgoingOf(req), body, 'application/connect+proto', timeoutMs, (incoming, settle, outgoing) => {
    const { header, trailer } = headersOf(incoming);
    if (incoming.statusCode !== 200) {
      const chunks: Buffer[] = [];
      incoming.on('data', (c: Buffer) => chunks.push(c));
      incoming.once('end', () => settle(errorOf(incoming.statusCode ?? 0, Buffer.concat(chunks), header)));
      incoming.once('error', (err) => settle(unreachable(err)));
      return;
    }
    settle(undefined, {
      stream: true,
      service: req.service,
      method: req.method,
      header,
      trailer,
      message: messagesOf(incoming, outgoing, req.signal, serialization, trailer),
    } as StreamResponse);
  });
}

/** The stream's messages, in order; ends at the end-stream message, or throws its error. */
async function* messagesOf(incoming: http.IncomingMessage, outgoing: http.ClientRequest, signal: AbortSignal, serialization: Serialization, trailer: LiteHeaders) {
  const parse = serialization.getO(true);
  const abort = () => outgoing.destroy();
  signal.addEventListener('abort', abort, { once: true });
  let buffer: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= 5) {
        const length = buffer.readUInt32BE(1);
        if (buffer.length < 5 + length) break;
        const flags = buffer[0]!;
        const data = buffer.subarray(5, 5 + length);
        buffer = buffer.subarray(5 + length);
        if ((flags & endStreamFlag) === endStreamFlag) {
          const end = endStreamFromJson(data);
          end.metadata.forEach((value, key) => trailer.set(key, value));
          if (end.error) throw end.error;
          return;
        }
        yield parse.parse(data);
      }
    }
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    if (signal.aborted) throw canceled(signal);
    throw unreachable(err as Error);
  } finally {
    signal.removeEventListener('abort', abort);
    if (!incoming.complete) outgoing.destroy();
  }
  if (signal.aborted) throw canceled(signal);
  throw new ConnectError('the stream ended without its end-stream message', Code.Unavailable);
}

function headersOf(incoming: http.IncomingMessage): { header: LiteHeaders; trailer: LiteHeaders } {
  const header = new LiteHeaders();
  const trailer = new LiteHeaders();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (name.startsWith('trailer-')) trailer.set(name.slice(8), text);
    else header.set(name, text);
  }
  return { header, trailer };
}

/** A non-200 answer's error, from its Connect error JSON, or from its HTTP status alone. */
export function errorOf(status: number, bytes: Uint8Array, header: LiteHeaders = new LiteHeaders()): ConnectError {
  const fallback = new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status), header);
  try {
    return errorFromJsonBytes(bytes, header, fallback);
  } catch (err) {
    return ConnectError.from(err);
  }
}

export function canceled(signal: AbortSignal): ConnectError {
  return signal.reason instanceof ConnectError ? signal.reason : new ConnectError('the operation was canceled', Code.Canceled);
}

/** The connection failed or broke before an answer: the server is down or restarting, so retry. */
function unreachable(err: Error): ConnectError {
  return new ConnectError(`cannot reach the service: ${err.message}`, Code.Unavailable, undefined, undefined, err);
}
