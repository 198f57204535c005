import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Server } from '@tus/server';
import type { MediaDeps } from '../deps.js';
import { AttachmentSchema } from '../domain/attachment.entity.js';
import { parseUploadMetadata, recordUpload } from '../domain/upload-rules.js';
import { HttpRefusal, httpCaller } from './caller.js';
import { uploadLocker } from './upload-locker.js';

/** Where the edge and media serve tus: POST creates an upload, HEAD and PATCH resume it at `<path>/<id>`. */
export const UPLOADS_PATH = '/media/v1/uploads';

/** tus's checksum extension answers a digest mismatch with 460. */
const CHECKSUM_MISMATCH = 460;

const unknownUpload = () => new HttpRefusal(404, 'no upload in progress with this id: it is unknown, expired, finished, or not yours\n');

/**
 * The tus server (creation, core and expiry-free resumption) on the blob store's datastore. Every
 * request is the uploader's: creation checks metadata, the rate limit, quota and uploads in
 * progress before anything is stored; completion checks the declared SHA-256 by reading the blob
 * back as a stream, and deletes a mismatch.
 */
export function tusUploads(deps: MediaDeps): Server {
  const { orm, store, uploadLocks, verifier, rateLimits, settings, clock } = deps;
  const callerOf = (req: Request) => httpCaller(verifier, req.headers.get('authorization'));
  return new Server({
    path: UPLOADS_PATH,
    datastore: store.datastore,
    locker: uploadLocker(uploadLocks),
    maxSize: settings.maxAttachmentBytes,
    // The edge serves the same path: a relative Location is right behind any host name.
    relativeLocation: true,
    namingFunction: () => randomBytes(16).toString('hex'),
    async onIncomingRequest(req, uploadId) {
      const caller = await callerOf(req);
      if (req.method === 'POST') return;
      const upload = await orm.em.fork().findOne(AttachmentSchema, { id: uploadId, ownerId: caller.userId });
      if (!upload || (req.method === 'PATCH' && upload.completedAt)) throw unknownUpload();
    },
    async onUploadCreate(req, upload) {
      const caller = await callerOf(req);
      if (upload.size === undefined) throw new HttpRefusal(400, 'declare the ciphertext\'s length in Upload-Length (Upload-Defer-Length is not supported)\n');
      const declared = parseUploadMetadata(upload.metadata);
      const decision = await rateLimits.uploadCreations.take(caller.userId);
      if (!decision.allowed) {
        const retry = String(decision.retryAfterSeconds);
        throw new HttpRefusal(429, `too many uploads started; retry in ${retry} s\n`, { 'Retry-After': retry });
      }
      await orm.em.fork().transactional((em) =>
        recordUpload(em as EntityManager, settings, { id: upload.id, ownerId: caller.userId, size: upload.size!, declared, now: new Date(clock.now()) }),
      );
      // The store keeps only what media uses: other keys a client sent (a file name) are dropped.
      return { metadata: { sha256: declared.sha256, 'content-type': declared.contentType } };
    },
    // tus writes a refusal's status and body but not its headers (Retry-After): they go on first.
    onResponseError(req, err) {
      if (!(err instanceof HttpRefusal)) return undefined;
      const res = (req as { runtime?: { node?: { res?: ServerResponse } } }).runtime?.node?.res;
      for (const [name, value] of Object.entries(err.headers)) res?.setHeader(name, value);
      return undefined;
    },
    async onUploadFinish(_req, upload) {
      const em = orm.em.fork();
      const row = await em.findOneOrFail(AttachmentSchema, { id: upload.id });
      const actual = await store.sha256(upload.id);
      if (actual !== row.sha256) {
        await store.remove(upload.id);
        await em.nativeDelete(AttachmentSchema, { id: upload.id });
        throw new HttpRefusal(CHECKSUM_MISMATCH, `the uploaded bytes' SHA-256 is ${actual}, not the declared ${row.sha256}: the upload was deleted\n`);
      }
      await em.nativeUpdate(AttachmentSchema, { id: upload.id }, { completedAt: new Date(clock.now()) });
      return {};
    },
  });
}
