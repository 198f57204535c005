import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Code, ConnectError } from '@connectrpc/connect';
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_PROOF_HEADER } from '@parley/platform';
import { edgeVerifier, type EdgeDeps } from '../deps.js';

/** The one non-Connect route: tus uploads and attachment downloads, forwarded to media's HTTP server. */
export const MEDIA_PATH_PREFIX = '/media/';

const TUS_REQUEST_HEADERS = ['Authorization', 'X-Request-Id', 'Content-Type', 'Tus-Resumable', 'Upload-Length', 'Upload-Metadata', 'Upload-Offset', 'Range'];
const TUS_RESPONSE_HEADERS = [
  'X-Request-Id',
  'Location',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Expires',
  'Accept-Ranges',
  'Content-Range',
  'Content-Length',
  'ETag',
  'Retry-After',
];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function plain(res: ServerResponse, status: number, line: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${line}\n`);
}

/**
 * Answers requests under /media/: CORS for the edge's allowed origins (preflights with the tus
 * methods and headers), the token check (revoked sessions and banned users included), then a streamed pass-through
 * to media: bodies flow with backpressure both ways and are never held whole, so a 1 GiB upload
 * costs the edge a socket buffer. Returns false for any other path.
 */
export function mediaProxy(deps: Pick<EdgeDeps, 'backends' | 'revoked' | 'banned' | 'settings' | 'log'>) {
  const verifier = edgeVerifier(deps);
  const { corsAllowedOrigins, mediaHttpUrl } = deps.settings;
  const anyOrigin = corsAllowedOrigins.includes('*');
  const agent = new Agent({ keepAlive: true });

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = /^Bearer ([A-Za-z0-9_.-]+)$/.exec((req.headers.authorization ?? '').trim())?.[1];
    if (!token) return plain(res, 401, 'missing access token: send "Authorization: Bearer <access token>"');
    try {
      await verifier.verify(token);
    } catch (err) {
      const refused = ConnectError.from(err);
      // A banned user is known, just not allowed: 403, as PERMISSION_DENIED maps over HTTP.
      return plain(res, refused.code === Code.PermissionDenied ? 403 : 401, refused.rawMessage);
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    // Media's HTTP port reads no client address: whatever the client sent in these is not passed on.
    delete headers[CLIENT_ADDRESS_HEADER];
    delete headers[CLIENT_ADDRESS_PROOF_HEADER];
    const upstream = request(new URL(req.url!, mediaHttpUrl), { method: req.method, headers, agent });
    const answered = new Promise<void>((resolve, reject) => {
      upstream.once('response', (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name) && !name.startsWith('access-control-')) out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        pipeline(answer, res).then(resolve, reject);
      });
      upstream.once('error', reject);
    });
    // A client that drops mid-upload drops media's request too: tus keeps what arrived, for a resume.
    await Promise.all([pipeline(req, upstream), answered]).catch((err: Error) => {
      upstream.destroy();
      if (!res.headersSent && !req.destroyed) plain(res, 502, `media is unavailable: ${err.message}`);
      else res.destroy();
    });
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!req.url?.startsWith(MEDIA_PATH_PREFIX)) return false;
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (anyOrigin || corsAllowedOrigins.includes(origin));
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', TUS_RESPONSE_HEADERS.join(', '));
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', 'POST, PATCH, HEAD, GET, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', TUS_REQUEST_HEADERS.join(', '));
        res.setHeader('Access-Control-Max-Age', '7200');
      }
      res.writeHead(allowed ? 204 : 403).end();
      return true;
    }
    forward(req, res).catch((err: unknown) => {
      deps.log.warn({ err }, 'media forwarding failed');
      plain(res, 502, 'media is unavailable');
    });
    return true;
  };
}
