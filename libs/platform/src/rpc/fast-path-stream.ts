import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, ConnectError, type StreamResponse } from '@connectrpc/connect';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { createEndStreamSerialization, endStreamFlag } from '@connectrpc/connect/protocol-connect';
import { asConnectError, headRecord, openCall, readBody, requestOf, sourceOf, type Call, type FastRoute } from './fast-path.js';

const endStream = createEndStreamSerialization({});
const COMPRESSED_FLAG = 0b00000001;

/**
 * A Connect server stream: the request's one enveloped message in; enveloped messages out, written
 * as the handler yields them (waiting while the client reads slowly), then the end-stream message
 * with the trailers or the error. Errors always travel in the end-stream message, under HTTP 200.
 * Headers go out with the first message or the end, so a handler can still set them until then.
 */
export async function serveStream(route: FastRoute, binary: boolean, req: IncomingMessage, res: ServerResponse, readMaxBytes: number): Promise<void> {
  let call: Call | undefined;
  let error: ConnectError | undefined;
  const head = () => {
    if (!res.headersSent) res.writeHead(200, call ? headRecord(call.responseHeader) : { 'content-type': binary ? 'application/connect+proto' : 'application/connect+json' });
  };
  try {
    call = openCall(route, sourceOf(req, res), binary ? 'application/connect+proto' : 'application/connect+json');
    const input = route.serialization.getI(binary).parse(singleMessage(await readBody(req, readMaxBytes)));
    const response = (await route.invoke(requestOf(call, true, once(input)))) as StreamResponse;
    const serialize = route.serialization.getO(binary);
    for await (const message of response.message) {
      if (res.destroyed) break;
      head();
      const socket = res.socket;
      if (socket && !socket.writableCorked) {
        // Messages the handler yields in one go (a page of the queue) leave in one socket write.
        socket.cork();
        process.nextTick(() => socket.uncork());
      }
      if (!res.write(encodeEnvelope(0, serialize.serialize(message)))) await writable(res);
    }
  } catch (err) {
    error = asConnectError(err);
  } finally {
    call?.done();
  }
  if (res.destroyed) return;
  head();
  res.end(encodeEnvelope(endStreamFlag, endStream.serialize({ metadata: call?.responseTrailer ?? new Headers(), error })));
}

/** The payload of a body that must be exactly one uncompressed enveloped message, refused in connect-node's words. */
function singleMessage(body: Uint8Array): Uint8Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const messages: Uint8Array[] = [];
  for (let offset = 0; offset < body.byteLength; ) {
    const length = body.byteLength - offset >= 5 ? view.getUint32(offset + 1) : Infinity;
    if (offset + 5 + length > body.byteLength) throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
    if (view.getUint8(offset) & COMPRESSED_FLAG) throw new ConnectError('received compressed envelope, but do not know how to decompress', Code.Internal);
    messages.push(body.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  if (messages.length === 0) throw new ConnectError('protocol error: missing input message for server-streaming method', Code.Unimplemented);
  if (messages.length > 1) throw new ConnectError('protocol error: received extra input message for server-streaming method', Code.Unimplemented);
  return messages[0]!;
}

async function* once<T>(value: T) {
  yield value;
}

/** Resolves when the client has read enough to write again, or has gone away. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
