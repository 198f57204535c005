import { spawn, type ChildProcess } from 'node:child_process';
import { S3 } from '@aws-sdk/client-s3';
import { freePort } from '@parley/stack';
import { eventually } from './test-stack.js';

/**
 * An S3-compatible server for the S3 provider's tests: moto's `moto_server`, started here on a free
 * port. (s3rver, its fork @20minutes/s3rver and fauxqs from npm lack ListParts, which every
 * @tus/s3-store PATCH and HEAD needs.)
 */
export class S3TestServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
    readonly client: S3,
    readonly bucket: string,
  ) {}

  static readonly credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

  static async start(bucket: string): Promise<S3TestServer> {
    const port = await freePort();
    // Its own process group, so stopping it takes the Python process behind the launcher shim too.
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', detached: true });
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (err) => reject(new Error(`cannot start moto_server (pip install 'moto[server]'): ${err.message}`))),
    );
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new S3({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3TestServer.credentials });
    const up = eventually(
      () => client.createBucket({ Bucket: bucket }).then(() => true, () => false),
      (created) => created,
      30_000,
    );
    await Promise.race([up, failed]);
    return new S3TestServer(child, endpoint, client, bucket);
  }

  /** Whether the bucket holds anything under `id`: an object, tus's `.info` or `.part`, or a multipart upload. */
  async holds(id: string): Promise<boolean> {
    const objects = await this.client.listObjectsV2({ Bucket: this.bucket, Prefix: id });
    const uploads = await this.client.listMultipartUploads({ Bucket: this.bucket, Prefix: id });
    return (objects.Contents?.length ?? 0) + (uploads.Uploads?.length ?? 0) > 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(-this.child.pid, 'SIGTERM');
    await exited;
  }
}
