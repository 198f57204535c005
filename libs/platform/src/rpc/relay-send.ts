import type http from 'node:http';
import type { DescMethodUnary } from '@bufbuild/protobuf';
import { Batcher } from '../batching/batcher.js';
import { injectTraceContext } from '../observability/tracing.js';
import { canceled, errorOf, postBytes, type Target } from './lean-transport-calls.js';
import { sharedAgent } from './lean-transport.js';
import { RELAY_BATCHED_BODY_MAX_BYTES, RELAY_BATCH_MAX_CALLS, RELAY_PATH, answersOf, batchOf, type CallToRelay } from './relay-batch.js';

export interface RelayOptions {
  /** What goes with the call: the caller's credentials, request id, … */
  headers: Record<string, string>;
  signal: AbortSignal;
  timeoutMs?: number;
}

/** Sends a unary call's body as it is (binary or JSON) and resolves with the answer's, or rejects with its error. */
export type RelaySend = (method: DescMethodUnary, body: Uint8Array, binary: boolean, opts: RelayOptions) => Promise<Uint8Array>;

/** A batch the backend has not answered by then fails every call in it that set no deadline of its own. */
const RELAY_BATCH_TIMEOUT_MS = 30_000;

interface PendingRelay extends CallToRelay {
  signal: AbortSignal;
  deadlineAt?: number;
}

/**
 * Unary calls to the server at `baseUrl`, relayed as bytes over keep-alive HTTP/1.1, as the lean
 * transport sends its own. The calls of one method that arrive while one of its batches is in
 * flight go together in the next (RelayService): a busy relay sends the backend one request for
 * many calls, and a call that finds nothing in flight goes at once, alone, as a call of its own.
 */
export function createRelaySend(baseUrl: string, agent: http.Agent = sharedAgent): RelaySend {
  const url = new URL(baseUrl);
  const target: Target = { host: url.hostname, port: Number(url.port || 80), agent };
  const base = url.pathname.replace(/\/$/, '');
  const alone = (call: PendingRelay) => {
    const timeoutMs = call.deadlineAt === undefined ? undefined : Math.max(1, call.deadlineAt - Date.now());
    return postBytes(target, { path: `${base}${call.procedure}`, header: { ...call.headers }, signal: call.signal }, call.body, call.binary, timeoutMs);
  };
  const run = async (pending: PendingRelay[]): Promise<(Uint8Array | Error)[]> => {
    // A call whose caller went away while it waited is not sent.
    const calls = pending.filter((c) => !c.signal.aborted);
    const answers =
      calls.length === 1 ? [await alone(calls[0]!).catch((err: Error) => err)] : calls.length > 1 ? await relayBatch(target, `${base}${RELAY_PATH}`, calls) : [];
    return pending.map((c) => (c.signal.aborted ? canceled(c.signal) : answers[calls.indexOf(c)]!));
  };
  const batchers = new Map<string, Batcher<PendingRelay, Uint8Array>>();
  return (method, body, binary, opts) => {
    const procedure = `/${method.parent.typeName}/${method.name}`;
    // Each call carries its own trace context, since a batch's request can carry only one.
    const call: PendingRelay = { procedure, binary, body, headers: injectTraceContext(opts.headers), signal: opts.signal };
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) call.deadlineAt = Date.now() + opts.timeoutMs;
    if (body.byteLength > RELAY_BATCHED_BODY_MAX_BYTES) return alone(call);
    let batcher = batchers.get(procedure);
    if (!batcher) batchers.set(procedure, (batcher = new Batcher(run, { maxBatch: RELAY_BATCH_MAX_CALLS, concurrency: 1 })));
    return untilAborted(batcher.submit(call), opts.signal);
  };
}

async function relayBatch(target: Target, path: string, calls: PendingRelay[]): Promise<(Uint8Array | Error)[]> {
  const now = Date.now();
  const timeouts = calls.map((c) => (c.deadlineAt === undefined ? undefined : Math.max(1, c.deadlineAt - now)));
  const timeoutMs = Math.max(...timeouts.map((t) => t ?? RELAY_BATCH_TIMEOUT_MS));
  const body = batchOf(calls.map((c, i) => ({ ...c, timeoutMs: timeouts[i] })));
  const bytes = await postBytes(target, { path, header: {}, signal: new AbortController().signal }, body, true, timeoutMs);
  return answersOf(bytes, calls.length, (status, answer) => errorOf(status, answer));
}

/** `promise`, or CANCELED as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(canceled(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(canceled(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
