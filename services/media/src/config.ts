import { env } from '@parley/platform';

const MIB = 1024 * 1024;

export const mediaConfigSchema = {
  /** The plain-HTTP port of the tus uploads and downloads, which the edge forwards to. */
  MEDIA_HTTP_PORT: env.port({ default: 8090 }),
  /** Where attachment bytes live: the local filesystem or an S3-compatible object store. */
  MEDIA_STORAGE: env.oneOf(['file', 's3'] as const, { default: 'file' }),
  /** The directory of the file provider (`npm start` uses `.data/media`). */
  MEDIA_FILE_DIR: env.string({ default: '.data/media' }),
  /** The S3 provider's endpoint, e.g. http://127.0.0.1:9000; empty uses AWS's. */
  MEDIA_S3_ENDPOINT: env.string({ default: '' }),
  MEDIA_S3_BUCKET: env.string({ default: 'parley-media' }),
  MEDIA_S3_REGION: env.string({ default: 'us-east-1' }),
  MEDIA_S3_ACCESS_KEY_ID: env.string({ default: '' }),
  MEDIA_S3_SECRET_ACCESS_KEY: env.string({ default: '' }),
  /** Path-style URLs (http://host/bucket/key), as most self-hosted S3 servers want. */
  MEDIA_S3_FORCE_PATH_STYLE: env.bool({ default: true }),
  /** The largest attachment, in bytes. */
  MEDIA_MAX_ATTACHMENT_BYTES: env.int({ min: 1, max: 64 * 1024 * MIB, default: 100 * MIB }),
  /** Bytes a user may hold, counting uploads in progress at their declared length. */
  MEDIA_QUOTA_BYTES_PER_USER: env.int({ min: 1, max: Number.MAX_SAFE_INTEGER, default: 2048 * MIB }),
  /** Uploads a user may have started and not finished at once. */
  MEDIA_MAX_PENDING_UPLOADS_PER_USER: env.int({ min: 1, max: 10000, default: 10 }),
  /** Uploads a user may start per minute (a token bucket of this size, refilled over a minute). */
  MEDIA_UPLOAD_CREATIONS_PER_MINUTE: env.int({ min: 1, max: 100000, default: 30 }),
  /** An upload not completed this long after it started is deleted. */
  MEDIA_PENDING_UPLOAD_TTL_SECONDS: env.int({ min: 60, max: 30 * 86400, default: 86400 }),
  /** A completed attachment granted to no conversation this long after completion is deleted. */
  MEDIA_UNGRANTED_TTL_SECONDS: env.int({ min: 60, max: 30 * 86400, default: 86400 }),
  /** How often the garbage collector runs. */
  MEDIA_GC_INTERVAL_SECONDS: env.int({ min: 1, max: 86400, default: 300 }),
  /** A blob in the store with no attachment row (a crash between the two) is deleted once this old. */
  MEDIA_ORPHAN_GRACE_SECONDS: env.int({ min: 1, max: 30 * 86400, default: 3600 }),
  /** How often the store is listed for such orphans (a listing of every blob: rarer than GC). */
  MEDIA_ORPHAN_SWEEP_INTERVAL_SECONDS: env.int({ min: 1, max: 7 * 86400, default: 3600 }),
  /** PostgreSQL connections for upload locks: each PATCH or HEAD in flight holds one. */
  MEDIA_UPLOAD_LOCK_CONNECTIONS: env.int({ min: 1, max: 1000, default: 20 }),
};
