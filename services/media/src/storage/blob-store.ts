import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DataStore } from '@tus/utils';

/** Inclusive byte positions, as in an HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where attachment bytes live. Uploads go through the tus `datastore`; reads and deletes through
 * the two methods here, which see only completed blobs.
 */
export interface BlobStore {
  /** `file` or `s3`, for logs. */
  readonly provider: string;
  readonly datastore: DataStore;
  /** The blob's bytes (a range of them), streamed. */
  read(id: string, range?: ByteRange): Promise<Readable>;
  /** The blob's SHA-256 as lowercase hex, read through once as a stream. */
  sha256(id: string): Promise<string>;
  /** Deletes the blob and its upload state; a blob already gone is not an error. */
  remove(id: string): Promise<void>;
  /** Every id with anything in the store (a blob, its upload state, a part), and when it last changed. */
  list(): AsyncIterable<StoredBlob>;
}

export interface StoredBlob {
  id: string;
  modifiedAt: Date;
}

/** The upload ids media names blobs with (tus's namingFunction): anything else in the store is not media's. */
export const BLOB_ID = /^[0-9a-f]{32}$/;

/** The id a stored key belongs to (`<id>`, or `<id>.<what tus keeps beside it>`), if it is one of media's. */
export function blobIdOf(key: string): string | undefined {
  const id = key.split('.')[0]!;
  return BLOB_ID.test(id) ? id : undefined;
}

/** The SHA-256 (lowercase hex) of what `bytes` streams. */
export async function sha256Of(bytes: Readable): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(bytes, hash);
  return hash.digest('hex');
}
