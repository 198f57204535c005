import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
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
