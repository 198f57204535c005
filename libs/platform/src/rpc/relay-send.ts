import type http from 'node:http';
import type { DescMethodUnary } from '@bufbuild/protobuf';
import { postBytes, type Target } from './lean-transport-calls.js';
import { sharedAgent } from './lean-transport.js';

export interface RelayOptions {
  /** What goes with the call: the caller's credentials, request id, … */
  headers: Record<string, string>;
  signal: AbortSignal;
  timeoutMs?: number;
}

/** Sends a unary call's body as it is (binary or JSON) and resolves with the answer's, or rejects with its error. */
export type RelaySend = (method: DescMethodUnary, body: Uint8Array, binary: boolean, opts: RelayOptions) => Promise<Uint8Array>;

/** Unary calls to the server at `baseUrl`, relayed as bytes over keep-alive HTTP/1.1, as the lean transport sends its own. */
export function createRelaySend(baseUrl: string, agent: http.Agent = sharedAgent): RelaySend {
  const url = new URL(baseUrl);
  const target: Target = { host: url.hostname, port: Number(url.port || 80), agent };
  const base = url.pathname.replace(/\/$/, '');
  return (method, body, binary, opts) =>
    postBytes(target, { path: `${base}/${method.parent.typeName}/${method.name}`, header: { ...opts.headers }, signal: opts.signal }, body, binary, opts.timeoutMs);
}
