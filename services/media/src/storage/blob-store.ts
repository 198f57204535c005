import type { Readable } from 'node:stream';
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
  /** Deletes the blob and its upload state; a blob already gone is not an error. */
  remove(id: string): Promise<void>;
}
