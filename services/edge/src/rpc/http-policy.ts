import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DescService } from '@bufbuild/protobuf';
import { cors } from '@connectrpc/connect';

const allowHeaders = [...cors.allowedHeaders, 'Authorization', 'X-Request-Id'].join(', ');
const exposeHeaders = [...cors.exposedHeaders, 'X-Request-Id'].join(', ');

/**
 * CORS for the listed origins. Answers preflights itself (true); other requests continue to the
 * RPC router with the CORS headers set.
 */
export function corsPolicy(allowedOrigins: string[]) {
  const any = allowedOrigins.includes('*');
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (any || allowedOrigins.includes(origin));
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', exposeHeaders);
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', cors.allowedMethods.join(', '));
        res.setHeader('Access-Control-Allow-Headers', allowHeaders);
        res.setHeader('Access-Control-Max-Age', '7200');
      }
      res.writeHead(allowed ? 204 : 403).end();
      return true;
    }
    return false;
  };
}

/** Unknown paths get a Connect error in JSON that names what is served, not a bare 404. */
export function unknownRpc(served: string[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        code: 'unimplemented',
        message: `no RPC at ${req.method} ${req.url?.split('?')[0]}: the edge serves POST /<service>/<method> for ${served.join(', ')}`,
      }),
    );
  };
}

const SUPPORTED_CONTENT_TYPES = /^application\/(json|proto|connect\+(json|proto)|grpc-web(-text)?(\+(json|proto))?)(;|$)/i;
const STREAM_CONTENT_TYPES = /^application\/(connect\+(json|proto)|grpc-web(-text)?(\+(json|proto))?)(;|$)/i;

/**
 * A POST in a format the edge doesn't speak gets 415 with a Connect error saying which formats it
 * does; so does a server stream (at `streamPaths`) called in a unary format, which Connect streams
 * can't be.
 */
export function contentTypePolicy(streamPaths: ReadonlySet<string>) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST') return false;
    const type = req.headers['content-type'] ?? '';
    const path = req.url?.split('?')[0] ?? '';
    if (streamPaths.has(path)) {
      if (STREAM_CONTENT_TYPES.test(type)) return false;
      return refuse(res, type, `${path} is a server stream: send application/connect+json or application/connect+proto (Connect streaming), or gRPC-Web`, 'application/connect+json, application/connect+proto');
    }
    if (SUPPORTED_CONTENT_TYPES.test(type)) return false;
    return refuse(res, type, 'send application/json or application/proto (Connect), or gRPC-Web', 'application/json, application/proto');
  };
}

function refuse(res: ServerResponse, type: string, fix: string, accepted: string): true {
  res.writeHead(415, { 'content-type': 'application/json', 'accept-post': accepted }).end(
    JSON.stringify({ code: 'invalid_argument', message: `unsupported content-type '${type.slice(0, 100)}': ${fix}` }),
  );
  return true;
}

/** Up to how many bytes a refused body is read and thrown away before answering, rather than cut off. */
const REFUSED_BODY_DRAIN_BYTES = 8 * 1024 * 1024;

/**
 * A body declared larger than `readMaxBytes` gets 413 before anything uses it, whatever the
 * protocol: the RPC layer would answer RESOURCE_EXHAUSTED, which Connect sends as 429 ("retry
 * later"), and no retry helps. A body sent without a length is cut by the RPC layer's own limit.
 * A client still sending when the connection closes sees a broken pipe instead of the answer, so a
 * moderately oversized body is read to its end and discarded first (the connection stays open); a
 * larger one is answered at once and the connection closed.
 */
export function bodySizePolicy(readMaxBytes: number) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (!(declared > readMaxBytes)) return false;
    const answer = (headers: Record<string, string>) =>
      res.writeHead(413, { 'content-type': 'application/json', ...headers }).end(
        JSON.stringify({
          code: 'resource_exhausted',
          message: `request body of ${declared} bytes is larger than the edge's limit of ${readMaxBytes} bytes: send less`,
        }),
      );
    if (declared > REFUSED_BODY_DRAIN_BYTES) {
      answer({ connection: 'close' });
    } else {
      req.once('end', () => answer({}));
      req.resume();
    }
    return true;
  };
}

/** The request paths of `services`' server-streaming methods. */
export function streamPaths(services: readonly DescService[]): Set<string> {
  return new Set(services.flatMap((s) => s.methods.filter((m) => m.methodKind === 'server_streaming').map((m) => `/${s.typeName}/${m.name}`)));
}
