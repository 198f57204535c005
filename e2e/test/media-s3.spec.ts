import { mediaSuite } from './support/media-suite.js';
import { S3TestServer } from '@parley/testing';

// Media on the S3 provider, against an S3-compatible server started here (see support/s3-server.ts).
const BUCKET = 'parley-media-test';
let server: S3TestServer | undefined;

mediaSuite({
  name: 's3',
  async setUp() {
    server = await S3TestServer.start(BUCKET);
    const s3 = server;
    return {
      env: {
        MEDIA_STORAGE: 's3',
        MEDIA_S3_ENDPOINT: server.endpoint,
        MEDIA_S3_BUCKET: BUCKET,
        MEDIA_S3_ACCESS_KEY_ID: S3TestServer.credentials.accessKeyId,
        MEDIA_S3_SECRET_ACCESS_KEY: S3TestServer.credentials.secretAccessKey,
      },
      blobs: { exists: (id) => s3.holds(id) },
    };
  },
  async tearDown() {
    await server?.stop();
  },
});
