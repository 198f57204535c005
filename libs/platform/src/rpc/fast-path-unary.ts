import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UnaryResponse } from '@connectrpc/connect';
import { codeToHttpStatus } from '@connectrpc/connect/protocol-connect';
import { asConnectError, headRecord, isBodyTooLarge, openCall, readBody, requestOf, sourceOf, type Call, type CallSource, type FastRoute } from './fast-path.js';
import { errorJson } from './fast-path-errors.js';
import { relayedAnswer, relayedRequest } from './fast-path-relay.js';

/** A unary call's answer: its HTTP status, head and body. */
export interface UnaryAnswer {
  status: number;
  head: Record<string, string>;
  body: Uint8Array;
}

/** A Connect unary call: one message in, one out, or an error as JSON with its HTTP status. */
export async function serveUnary(route: FastRoute, binary: boolean, req: IncomingMessage, res: ServerResponse, readMaxBytes: number): Promise<void> {
  const { status, head, body } = await answerUnary(route, binary, sourceOf(req, res), () => readBody(req, readMaxBytes));
  if (res.destroyed) return;
  res.writeHead(status, { ...head, 'content-length': body.byteLength });
  res.end(body);
}

/** Runs a unary call from `source` whose body `read` gives, and says what to answer. */
export async function answerUnary(route: FastRoute, binary: boolean, source: CallSource, read: () => Promise<Uint8Array>): Promise<UnaryAnswer> {
  let call: Call | undefined;
  let status = 200;
  let body: Uint8Array;
  try {
    call = openCall(route, source, binary ? 'application/proto' : 'application/json');
    const bytes = await read();
    const parse = () => route.serialization.getI(binary).parse(bytes);
    const request = route.relayed ? relayedRequest(requestOf(call, false, undefined), bytes, binary, parse) : requestOf(call, false, parse());
    const response = (await route.invoke(request)) as UnaryResponse;
    if (response.header !== call.responseHeader) response.header.forEach((v, k) => call!.responseHeader.set(k, v));
    if (response.trailer !== call.responseTrailer) response.trailer.forEach((v, k) => call!.responseTrailer.set(k, v));
    body = relayedAnswer(response) ?? route.serialization.getO(binary).serialize(response.message);
  } catch (err) {
    const error = asConnectError(err);
    status = isBodyTooLarge(error) ? 413 : codeToHttpStatus(error.code);
    body = errorJson(error);
    if (call) {
      call.responseHeader.set('content-type', 'application/json');
      error.metadata.forEach((value, key) => call!.responseHeader.set(key, value));
    }
  } finally {
    call?.done();
  }
  return { status, head: call ? headRecord(call.responseHeader, call.responseTrailer) : { 'content-type': 'application/json' }, body };
}
