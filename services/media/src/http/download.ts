import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { MediaDeps } from '../deps.js';
import { noSuchAttachment, readableAttachment } from '../domain/readable-attachment.js';
import { parseRange } from './byte-range.js';
import { HttpRefusal, httpCaller } from './caller.js';

export const ATTACHMENTS_PATH = '/media/v1/attachments/';

/**
 * GET (or HEAD) an attachment's ciphertext, whole or one `Range` of it, streamed from the store.
 * The client decrypts it with the key from its message; the content type is always octet-stream.
 */
export async function download(deps: MediaDeps, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const caller = await httpCaller(deps.verifier, req.headers.authorization);
  const attachment = await readableAttachment(deps.orm.em.fork() as EntityManager, id, caller.userId);
  if (!attachment) throw new HttpRefusal(404, `${noSuchAttachment(id)}\n`);
  const size = Number(attachment.size);
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    throw new HttpRefusal(416, `Range ${String(req.headers.range).slice(0, 100)} is outside the attachment's ${size} bytes\n`, { 'Content-Range': `bytes */${size}` });
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: `"${attachment.sha256}"`,
    'Cache-Control': 'private, max-age=31536000, immutable',
    'Content-Length': String(range ? range.end - range.start + 1 : size),
    ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } : {}),
  };
  if (req.method === 'HEAD' || size === 0) {
    res.writeHead(range ? 206 : 200, headers).end();
    return;
  }
  const body = await deps.store.read(id, range);
  res.writeHead(range ? 206 : 200, headers);
  await pipeline(body, res);
}
