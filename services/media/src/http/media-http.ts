import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { databaseUnavailable, type Closable } from '@parley/platform';
import type { MediaDeps } from '../deps.js';
import { HttpRefusal } from './caller.js';
import { ATTACHMENTS_PATH, download } from './download.js';
import { handleTus } from './tus-request.js';
import { tusUploads, UPLOADS_PATH } from './tus-uploads.js';

const TUS_METHODS = new Set(['POST', 'PATCH', 'HEAD', 'OPTIONS']);

function refuse(res: ServerResponse, err: unknown, log: MediaDeps['log']): void {
  let refusal: HttpRefusal;
  if (err instanceof HttpRefusal) refusal = err;
  else if (databaseUnavailable(err)) {
    // An outage, not a bug: 503, which clients retry (as UNAVAILABLE on the RPC paths).
    log.warn({ reason: (err as Error).message }, 'the database is unavailable');
    refusal = new HttpRefusal(503, 'the database is unavailable; retry shortly\n', { 'Retry-After': '1' });
  } else {
    log.error({ err }, 'media HTTP request failed');
    refusal = new HttpRefusal(500, 'internal error\n');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(refusal.status_code, { 'Content-Type': 'text/plain; charset=utf-8', ...refusal.headers }).end(refusal.body);
}

/**
 * Media's plain-HTTP server, reached only through the edge: tus uploads and attachment downloads.
 * Everything else gets a line saying what is served.
 */
export async function startMediaHttp(deps: MediaDeps): Promise<Closable & { port: number }> {
  const tus = tusUploads(deps);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path === UPLOADS_PATH || path.startsWith(`${UPLOADS_PATH}/`)) {
      if (!TUS_METHODS.has(req.method ?? '')) {
        throw new HttpRefusal(405, `${req.method} is not a tus method here: upload with POST, HEAD and PATCH; download from GET ${ATTACHMENTS_PATH}<id>\n`, {
          Allow: [...TUS_METHODS].join(', '),
        });
      }
      await handleTus(tus, req, res);
      return;
    }
    if (path.startsWith(ATTACHMENTS_PATH) && (req.method === 'GET' || req.method === 'HEAD')) {
      await download(deps, req, res, path.slice(ATTACHMENTS_PATH.length));
      return;
    }
    throw new HttpRefusal(404, `nothing at ${req.method} ${path.slice(0, 200)}: media serves tus at ${UPLOADS_PATH} and GET ${ATTACHMENTS_PATH}<id>\n`);
  };
  // No whole-request deadline: one PATCH of a big attachment may stream for longer than Node's
  // default 5 minutes. Only the edge reaches this port; headers still have Node's deadline.
  const server = createServer({ requestTimeout: 0 }, (req, res) => void handle(req, res).catch((err) => refuse(res, err, deps.log)));
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(deps.settings.httpPort, deps.settings.httpHost, ok));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : deps.settings.httpPort,
    async close(graceMs: number) {
      server.close();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await new Promise<void>((ok) => server.once('close', ok));
      clearTimeout(timer);
    },
  };
}
