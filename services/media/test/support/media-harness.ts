import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryLocks, openDatabase, type Caller, type TokenVerifier } from '@parley/platform';
import { ManualClock, S3TestServer, TestIsolation } from '@parley/testing';
import pino from 'pino';
import { database } from '../../src/database.js';
import type { MediaDeps, MediaSettings } from '../../src/deps.js';
import { mediaRateLimits } from '../../src/domain/rate-limits.js';
import { startMediaHttp } from '../../src/http/media-http.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { fileBlobStore } from '../../src/storage/file-blob-store.js';
import { s3BlobStore } from '../../src/storage/s3-blob-store.js';

const MIB = 1024 * 1024;
const BUCKET = 'parley-media-harness';

/** A provider as the tests use it: its store and a look at whether a blob is there. */
export interface ProviderUnderTest {
  name: 'file' | 's3';
  start(): Promise<{ store: BlobStore; exists(id: string): Promise<boolean>; stop(): Promise<void> }>;
}

export const providers: ProviderUnderTest[] = [
  {
    name: 'file',
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'parley-media-harness-'));
      return {
        store: await fileBlobStore(dir),
        exists: async (id) => existsSync(join(dir, id)) || existsSync(join(dir, `${id}.json`)),
        stop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 's3',
    async start() {
      const server = await S3TestServer.start(BUCKET);
      const { accessKeyId, secretAccessKey } = S3TestServer.credentials;
      return {
        store: s3BlobStore({ endpoint: server.endpoint, bucket: BUCKET, region: 'us-east-1', accessKeyId, secretAccessKey, forcePathStyle: true }),
        exists: (id) => server.holds(id),
        stop: () => server.stop(),
      };
    },
  },
];

/** Any bearer token is the user id it spells: the edge's token check is the e2e tests' business. */
const tokenIsUserId: TokenVerifier = {
  async verify(token): Promise<Caller> {
    return { userId: token, sessionId: token, deviceId: 1, expiresAt: new Date(Date.now() + 3_600_000) };
  },
};

export const defaultSettings: MediaSettings = {
  httpPort: 0,
  httpHost: '127.0.0.1',
  maxAttachmentBytes: MIB,
  quotaBytesPerUser: 100_000,
  maxPendingUploadsPerUser: 3,
  pendingUploadTtlMs: 3_600_000,
  ungrantedTtlMs: 7_200_000,
  gcIntervalMs: 60_000,
  orphanGraceMs: 600_000,
  orphanSweepIntervalMs: 600_000,
};

/**
 * Media's HTTP server and use cases in this process, on a fresh migrated database, a provider and
 * a manual clock, so limits and expiry are exact. Tokens are user ids (see above).
 */
export async function startMediaHarness(provider: ProviderUnderTest, settings: Partial<MediaSettings> & { creationsPerMinute?: number } = {}) {
  const isolation = new TestIsolation();
  const orm = await openDatabase(database, { url: isolation.databaseUrl('media'), createIfMissing: true, poolMax: 4 });
  const blobs = await provider.start();
  const clock = new ManualClock(Date.now());
  const uploadLocks = new AdvisoryLocks(isolation.databaseUrl('media'), 4);
  const deps: MediaDeps = {
    orm,
    log: pino({ level: 'silent' }),
    store: blobs.store,
    uploadLocks,
    verifier: tokenIsUserId,
    rateLimits: mediaRateLimits(orm, { MEDIA_UPLOAD_CREATIONS_PER_MINUTE: settings.creationsPerMinute ?? 100 }, clock),
    clock,
    settings: { ...defaultSettings, ...settings },
  };
  const http = await startMediaHttp(deps);
  return {
    deps,
    clock,
    exists: blobs.exists,
    url: `http://127.0.0.1:${http.port}`,
    query: <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => isolation.query<T>(isolation.database('media'), sql, params),
    async stop() {
      await http.close(1000);
      await uploadLocks.close();
      await orm.close();
      await blobs.stop();
      await isolation.cleanup([]);
    },
  };
}
