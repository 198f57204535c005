import type { Readable } from 'node:stream';
import { S3 } from '@aws-sdk/client-s3';
import { S3Store } from '@tus/s3-store';
import type { BlobStore, ByteRange } from './blob-store.js';

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

/** The S3-compatible provider: tus multipart uploads into `bucket`, one object per blob (plus tus's `<id>.info`). */
export function s3BlobStore(settings: S3Settings): BlobStore {
  const clientConfig = {
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    // Checksums only where S3 demands them: S3-compatible servers don't all know the newer headers.
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.accessKeyId ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } } : {}),
  };
  const datastore = new S3Store({ s3ClientConfig: { ...clientConfig, bucket: settings.bucket } });
  const client = new S3(clientConfig);
  const Bucket = settings.bucket;
  return {
    provider: 's3',
    datastore,
    async read(id: string, range?: ByteRange): Promise<Readable> {
      const object = await client.getObject({ Bucket, Key: id, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) });
      return object.Body as Readable;
    },
    async remove(id: string): Promise<void> {
      // tus's remove aborts a multipart upload in progress; a completed one is just two objects.
      await datastore.remove(id).catch(() => undefined);
      await client.deleteObjects({ Bucket, Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }] } });
    },
  };
}
