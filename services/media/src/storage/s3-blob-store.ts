import type { Readable } from 'node:stream';
import { S3 } from '@aws-sdk/client-s3';
import { S3Store } from '@tus/s3-store';
import { blobIdOf, sha256Of, type BlobStore, type ByteRange, type StoredBlob } from './blob-store.js';

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
  const read = async (id: string, range?: ByteRange): Promise<Readable> => {
    const object = await client.getObject({ Bucket, Key: id, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) });
    return object.Body as Readable;
  };
  return {
    provider: 's3',
    datastore,
    read,
    sha256: async (id: string) => sha256Of(await read(id)),
    async remove(id: string): Promise<void> {
      // tus's remove aborts the multipart upload its `.info` names; one started without an `.info`
      // (a crash between the two) is found by listing. An unfinished upload may keep a short `.part`.
      await datastore.remove(id).catch(() => undefined);
      const { Uploads = [] } = await client.listMultipartUploads({ Bucket, Prefix: id });
      for (const upload of Uploads.filter((u) => u.Key === id)) await client.abortMultipartUpload({ Bucket, Key: id, UploadId: upload.UploadId });
      await client.deleteObjects({ Bucket, Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }, { Key: `${id}.part` }] } });
    },
    async *list(): AsyncIterable<StoredBlob> {
      for (let token: string | undefined, more = true; more; ) {
        const page = await client.listObjectsV2({ Bucket, ContinuationToken: token });
        for (const object of page.Contents ?? []) {
          const id = blobIdOf(object.Key ?? '');
          if (id && object.LastModified) yield { id, modifiedAt: object.LastModified };
        }
        [token, more] = [page.NextContinuationToken, Boolean(page.IsTruncated)];
      }
      for (let keyMarker: string | undefined, uploadMarker: string | undefined, more = true; more; ) {
        const page = await client.listMultipartUploads({ Bucket, KeyMarker: keyMarker, UploadIdMarker: uploadMarker });
        for (const upload of page.Uploads ?? []) {
          const id = blobIdOf(upload.Key ?? '');
          if (id && upload.Initiated) yield { id, modifiedAt: upload.Initiated };
        }
        [keyMarker, uploadMarker, more] = [page.NextKeyMarker, page.NextUploadIdMarker, Boolean(page.IsTruncated)];
      }
    },
  };
}
