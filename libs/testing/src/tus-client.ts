import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** An HTTP answer with its whole body: test uploads and downloads are small enough to hold. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** tus's Upload-Metadata: comma-separated `key base64(value)` pairs. */
export function uploadMetadata(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');
}

/**
 * One raw HTTP request. `cutAfter` sends that many bytes of the body and then drops
 * the connection, as a phone losing its network mid-chunk does; the promise then resolves with
 * status 0 once the socket closed.
 */
export function httpCall(
  baseUrl: string,
  path: string,
  opts: { method: string; headers?: Record<string, string>; body?: Uint8Array; cutAfter?: number; stream?: { from: Readable; length: number }; sink?: Writable },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const length = opts.stream?.length ?? opts.body?.length;
    const headers = { ...opts.headers, ...(length !== undefined ? { 'Content-Length': String(length) } : {}) };
    const req = request(new URL(path, baseUrl), { method: opts.method, headers, agent: false });
    req.once('response', (res) => {
      if (opts.sink && res.statusCode !== undefined && res.statusCode < 300) {
        pipeline(res, opts.sink).then(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0), text: '' }), reject);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.once('error', reject);
    });
    if (opts.cutAfter !== undefined) {
      req.once('error', () => undefined);
      req.once('close', () => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), text: '' }));
      req.write(opts.body!.subarray(0, opts.cutAfter), () => req.destroy());
      return;
    }
    req.once('error', reject);
    if (opts.stream) pipeline(opts.stream.from, req).catch(reject);
    else req.end(opts.body ? Buffer.from(opts.body) : undefined);
  });
}

/** A tus client of the edge (or of media itself, in its own tests), as the user holding `accessToken`. */
export class TusClient {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
  ) {}

  private headers(extra: Record<string, string> = {}) {
    return { Authorization: `Bearer ${this.accessToken}`, 'Tus-Resumable': '1.0.0', ...extra };
  }

  /** POST: a new upload of `length` bytes; the answer's Location names it. */
  create(length: number, metadata: Record<string, string>): Promise<HttpAnswer> {
    const headers = this.headers({ 'Upload-Length': String(length), ...(Object.keys(metadata).length ? { 'Upload-Metadata': uploadMetadata(metadata) } : {}) });
    return httpCall(this.baseUrl, '/media/v1/uploads', { method: 'POST', headers });
  }

  /** POST that must succeed: the upload's path (its Location) and id. */
  async start(bytes: Uint8Array, metadata: Record<string, string> = {}): Promise<{ location: string; id: string }> {
    const answer = await this.create(bytes.length, { sha256: sha256Hex(bytes), ...metadata });
    if (answer.status !== 201) throw new Error(`upload creation answered ${answer.status}: ${answer.text}`);
    const location = String(answer.headers.location);
    return { location, id: location.split('/').pop()! };
  }

  patch(location: string, offset: number, chunk: Uint8Array, cutAfter?: number): Promise<HttpAnswer> {
    const headers = this.headers({ 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' });
    return httpCall(this.baseUrl, location, { method: 'PATCH', headers, body: chunk, cutAfter });
  }

  /** HEAD: the upload's state as the server tells it (Upload-Offset, Upload-Length, Upload-Metadata). */
  head(location: string): Promise<HttpAnswer> {
    return httpCall(this.baseUrl, location, { method: 'HEAD', headers: this.headers() });
  }

  /** HEAD: how many bytes the server holds. */
  async offset(location: string): Promise<number> {
    const answer = await this.head(location);
    if (answer.status !== 200) throw new Error(`HEAD answered ${answer.status}`);
    return Number(answer.headers['upload-offset']);
  }

  /** Sends `bytes` from `from` on, `chunkSize` per PATCH; the last answer is returned. */
  async send(location: string, bytes: Uint8Array, from = 0, chunkSize = bytes.length): Promise<HttpAnswer> {
    let offset = from;
    let answer: HttpAnswer | undefined;
    do {
      answer = await this.patch(location, offset, bytes.subarray(offset, Math.min(offset + chunkSize, bytes.length)));
      if (answer.status !== 204) return answer;
      offset = Number(answer.headers['upload-offset']);
    } while (offset < bytes.length);
    return answer;
  }

  /** A whole upload in one PATCH; returns the attachment id. */
  async upload(bytes: Uint8Array, metadata: Record<string, string> = {}): Promise<string> {
    const { location, id } = await this.start(bytes, metadata);
    const answer = await this.send(location, bytes);
    if (answer.status !== 204) throw new Error(`upload answered ${answer.status}: ${answer.text}`);
    return id;
  }

  /** One PATCH streaming `length` bytes from `from`, never holding them: for big uploads (benches). */
  patchStream(location: string, offset: number, from: Readable, length: number): Promise<HttpAnswer> {
    const headers = this.headers({ 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' });
    return httpCall(this.baseUrl, location, { method: 'PATCH', headers, stream: { from, length } });
  }

  /** A download streamed into `sink` (the answer's body is then empty). */
  downloadTo(id: string, sink: Writable): Promise<HttpAnswer> {
    return httpCall(this.baseUrl, `/media/v1/attachments/${id}`, { method: 'GET', headers: { Authorization: `Bearer ${this.accessToken}` }, sink });
  }

  download(id: string, range?: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.accessToken}`, ...(range ? { Range: range } : {}) };
    return httpCall(this.baseUrl, `/media/v1/attachments/${id}`, { method: 'GET', headers });
  }
}
