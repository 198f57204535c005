import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UnaryResponse } from '@connectrpc/connect';
import { codeToHttpStatus } from '@connectrpc/connect/protocol-connect';
import { asConnectError, headRecord, openCall, readBody, requestOf, type Call, type FastRoute } from './fast-path.js';
import { errorJson } from './fast-path-errors.js';
import { relayedAnswer, relayedRequest } from './fast-path-relay.js';

/** A Connect unary call: one message in, one out, or an error as JSON with its HTTP status. */
export async function serveUnary(route: FastRoute, binary: boolean, req: IncomingMessage, res: ServerResponse, readMaxBytes: number): Promise<void> {
  let call: Call | undefined;
  let status = 200;
  let body: Uint8Array;
  try {
    call = openCall(route, req, res, binary ? 'application/proto' : 'application/json');
    const bytes = await readBody(req, readMaxBytes);
    const parse = () => route.serialization.getI(binary).parse(bytes);
    const request = route.relayed ? relayedRequest(requestOf(call, false, undefined), bytes, binary, parse) : requestOf(call, false, parse());
    const response = (await route.invoke(request)) as UnaryResponse;
    if (response.header !== call.responseHeader) response.header.forEach((v, k) => call!.responseHeader.set(k, v));
    if (response.trailer !== call.responseTrailer) response.trailer.forEach((v, k) => call!.responseTrailer.set(k, v));
    body = relayedAnswer(response) ?? route.serialization.getO(binary).serialize(response.message);
  } catch (err) {
    const error = asConnectError(err);
    status = codeToHttpStatus(error.code);
    body = errorJson(error);
    if (call) {
      call.responseHeader.set('content-type', 'application/json');
      error.metadata.forEach((value, key) => call!.responseHeader.set(key, value));
    }
  } finally {
    call?.done();
  }
  if (res.destroyed) return;
  const head = call ? headRecord(call.responseHeader, call.responseTrailer) : { 'content-type': 'application/json' };
  res.writeHead(status, { ...head, 'content-length': body.byteLength });
  res.end(body);
}
