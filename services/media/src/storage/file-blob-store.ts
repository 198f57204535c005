import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { blobIdOf, type BlobStore, type ByteRange, type StoredBlob } from './blob-store.js';

/** Reads in chunks of 1 MiB, not 64 KiB: a sixteenth of the reads, chunks and callbacks for a download or a digest check. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** The local filesystem provider: one file per blob (and tus's `<id>.json` while uploading). */
export async function fileBlobStore(directory: string): Promise<BlobStore> {
  const dir = resolve(directory);
  await mkdir(dir, { recursive: true });
  const datastore = new FileStore({ directory: dir });
  return {
    provider: 'file',
    datastore,
    async read(id: string, range?: ByteRange): Promise<Readable> {
      const stream = createReadStream(join(dir, id), { ...range, highWaterMark: READ_CHUNK_BYTES });
      // Opening errors (the blob went away) surface here, not mid-response.
      await new Promise<void>((ok, fail) => stream.once('open', () => ok()).once('error', fail));
      return stream;
    },
    // One buffer, read into again and again: streaming a 1 GiB blob through the hash would leave
    // 1 GiB of spent chunks for the garbage collector, and media's memory would grow by its slack.
    async sha256(id: string): Promise<string> {
      const file = await open(join(dir, id), 'r');
      try {
        const hash = createHash('sha256');
        const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        for (let read = 1; read > 0; ) {
          ({ bytesRead: read } = await file.read(buffer, 0, buffer.length, null));
          hash.update(buffer.subarray(0, read));
        }
        return hash.digest('hex');
      } finally {
        await file.close();
      }
    },
    async remove(id: string): Promise<void> {
      // The data file may already be gone (an interrupted earlier delete): the upload state must still go.
      await datastore.remove(id).catch(() => datastore.configstore.delete(id).catch(() => undefined));
    },
    async *list(): AsyncIterable<StoredBlob> {
      for (const name of await readdir(dir)) {
        const id = blobIdOf(name);
        // A file gone since the listing (deleted meanwhile) is simply not there any more.
        const stats = id ? await stat(join(dir, name)).catch(() => undefined) : undefined;
        if (id && stats) yield { id, modifiedAt: stats.mtime };
      }
    },
  };
}
