import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { codeToHttpStatus } from '@connectrpc/connect/protocol-connect';
import { RelayRequestSchema, RelayResponseSchema, RelayService, type RelayedAnswer, type RelayedCall } from '@parley/proto';
import { errorJson } from './fast-path-errors.js';
import { answerUnary } from './fast-path-unary.js';
import { readBody, type CallSource, type FastRoute } from './fast-path.js';

/**
 * Relayed calls in batches (RelayService, parley/rpc/v1/relay.proto): a relay sends the calls of
 * one method that wait while a batch is in flight together in the next, and the backend serves
 * each as if it had come alone. Both sides live here.
 */

export const RELAY_PATH = `/${RelayService.typeName}/${RelayService.method.relay.name}`;
/** Most calls in one batch. */
export const RELAY_BATCH_MAX_CALLS = 64;
/** A call with a larger body goes alone, so a batch stays within what a server reads. */
export const RELAY_BATCHED_BODY_MAX_BYTES = 64 * 1024;
/** Room for one call's procedure, headers and framing besides its body. */
const CALL_OVERHEAD_BYTES = 8 * 1024;

/** Serves a batch of relayed calls with `routes`, each through the interceptor chain as its own call. */
export async function serveRelayBatch(routes: Map<string, FastRoute>, req: IncomingMessage, res: ServerResponse, readMaxBytes: number): Promise<void> {
  let status = 200;
  let body: Uint8Array;
  try {
    const batchMax = RELAY_BATCH_MAX_CALLS * (RELAY_BATCHED_BODY_MAX_BYTES + CALL_OVERHEAD_BYTES);
    const request = parseBatch(await readBody(req, batchMax));
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const host = req.headers.host;
    const answers = await Promise.all(request.calls.map((call) => answerCall(routes, call, host, gone.signal, readMaxBytes)));
    body = toBinary(RelayResponseSchema, create(RelayResponseSchema, { answers }));
  } catch (err) {
    const error = err instanceof ConnectError ? err : new ConnectError('internal error', Code.Internal);
    status = codeToHttpStatus(error.code);
    body = errorJson(error);
  }
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': status === 200 ? 'application/proto' : 'application/json', 'content-length': body.byteLength });
  res.end(body);
}

function parseBatch(bytes: Uint8Array) {
  try {
    return fromBinary(RelayRequestSchema, bytes);
  } catch (err) {
    throw new ConnectError(`cannot parse the relayed calls: ${(err as Error).message}`, Code.InvalidArgument);
  }
}

async function answerCall(
  routes: Map<string, FastRoute>,
  call: RelayedCall,
  host: string | undefined,
  gone: AbortSignal,
  readMaxBytes: number,
): Promise<Omit<RelayedAnswer, '$typeName'>> {
  const route = routes.get(call.procedure);
  if (!route || route.method.methodKind !== 'unary') {
    const error = new ConnectError(`${call.procedure} is not a unary method of this service`, Code.Unimplemented);
    return { status: codeToHttpStatus(error.code), body: errorJson(error) };
  }
  const headers: IncomingHttpHeaders = { ...call.headers, host };
  if (call.timeoutMs > 0) headers['connect-timeout-ms'] = String(call.timeoutMs);
  const source: CallSource = { headers, path: call.procedure, onGone: (abort) => gone.addEventListener('abort', abort, { once: true }) };
  const read = async () => {
    if (call.body.byteLength > readMaxBytes) {
      throw new ConnectError(`message size ${call.body.byteLength} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
    }
    return call.body;
  };
  const { status, body } = await answerUnary(route, call.binary, source, read);
  return { status, body };
}

/** One call for a batch: what `RelayedCall` carries. */
export interface CallToRelay {
  procedure: string;
  binary: boolean;
  body: Uint8Array;
  headers: Record<string, string>;
  timeoutMs?: number;
}

/** The batch's request body. */
export function batchOf(calls: readonly CallToRelay[]): Uint8Array {
  return toBinary(
    RelayRequestSchema,
    create(RelayRequestSchema, {
      calls: calls.map((c) => ({ procedure: c.procedure, binary: c.binary, body: c.body, headers: c.headers, timeoutMs: Math.max(0, Math.ceil(c.timeoutMs ?? 0)) })),
    }),
  );
}

/** Each call's answer from the batch's: its body, or its Connect error. */
export function answersOf(bytes: Uint8Array, count: number, errorOf: (status: number, body: Uint8Array) => ConnectError): (Uint8Array | Error)[] {
  const { answers } = fromBinary(RelayResponseSchema, bytes);
  if (answers.length !== count) throw new ConnectError(`a batch of ${count} relayed calls was answered ${answers.length} times`, Code.Internal);
  return answers.map((a) => (a.status === 200 ? a.body : errorOf(a.status, a.body)));
}
