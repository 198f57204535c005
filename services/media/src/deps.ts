import { AdvisoryLocks, remoteVerifier, systemClock, type Clock, type ConfigOf, type Logger, type MikroORM, type ServiceContext, type TokenVerifier } from '@parley/platform';
import type { mediaConfigSchema } from './config.js';
import { mediaRateLimits, type MediaRateLimits } from './domain/rate-limits.js';
import type { BlobStore } from './storage/blob-store.js';
import { fileBlobStore } from './storage/file-blob-store.js';
import { s3BlobStore } from './storage/s3-blob-store.js';

/** What media's routes, HTTP server, consumers and collector are built from: made once, in `init`. */
export interface MediaDeps {
  orm: MikroORM;
  log: Logger;
  store: BlobStore;
  /** Upload locks every media replica respects (see http/upload-locker.ts). */
  uploadLocks: AdvisoryLocks;
  /** Checks the bearer tokens of the plain-HTTP routes, as the RPC chain does. */
  verifier: TokenVerifier;
  rateLimits: MediaRateLimits;
  clock: Clock;
  settings: MediaSettings;
}

/** The settings the use cases read; see config.ts for what each variable means. */
export interface MediaSettings {
  httpPort: number;
  /** The address the HTTP port listens on: RPC_HOST, since only the edge calls it. */
  httpHost: string;
  maxAttachmentBytes: number;
  quotaBytesPerUser: number;
  maxPendingUploadsPerUser: number;
  pendingUploadTtlMs: number;
  ungrantedTtlMs: number;
  gcIntervalMs: number;
  orphanGraceMs: number;
  orphanSweepIntervalMs: number;
}

type MediaConfig = ConfigOf<typeof mediaConfigSchema>;

async function blobStore(config: MediaConfig): Promise<BlobStore> {
  if (config.MEDIA_STORAGE === 'file') return fileBlobStore(config.MEDIA_FILE_DIR);
  return s3BlobStore({
    endpoint: config.MEDIA_S3_ENDPOINT,
    bucket: config.MEDIA_S3_BUCKET,
    region: config.MEDIA_S3_REGION,
    accessKeyId: config.MEDIA_S3_ACCESS_KEY_ID,
    secretAccessKey: config.MEDIA_S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.MEDIA_S3_FORCE_PATH_STYLE,
  });
}

export async function buildMediaDeps({ orm, log, config }: ServiceContext<MediaConfig>): Promise<MediaDeps> {
  const store = await blobStore(config);
  log.info({ provider: store.provider }, 'media storage provider');
  return {
    orm,
    log,
    store,
    uploadLocks: new AdvisoryLocks((config as unknown as { DATABASE_URL: string }).DATABASE_URL, config.MEDIA_UPLOAD_LOCK_CONNECTIONS),
    verifier: remoteVerifier((config as unknown as { AUTH_URL: string }).AUTH_URL),
    rateLimits: mediaRateLimits(orm, config),
    clock: systemClock,
    settings: {
      httpPort: config.MEDIA_HTTP_PORT,
      httpHost: config.RPC_HOST,
      maxAttachmentBytes: config.MEDIA_MAX_ATTACHMENT_BYTES,
      quotaBytesPerUser: config.MEDIA_QUOTA_BYTES_PER_USER,
      maxPendingUploadsPerUser: config.MEDIA_MAX_PENDING_UPLOADS_PER_USER,
      pendingUploadTtlMs: config.MEDIA_PENDING_UPLOAD_TTL_SECONDS * 1000,
      ungrantedTtlMs: config.MEDIA_UNGRANTED_TTL_SECONDS * 1000,
      gcIntervalMs: config.MEDIA_GC_INTERVAL_SECONDS * 1000,
      orphanGraceMs: config.MEDIA_ORPHAN_GRACE_SECONDS * 1000,
      orphanSweepIntervalMs: config.MEDIA_ORPHAN_SWEEP_INTERVAL_SECONDS * 1000,
    },
  };
}
