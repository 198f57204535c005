// Attachments through the edge: a BENCH_MEDIA_MIB (1024) MiB ciphertext uploaded over tus in
// streamed PATCHes of CHUNK_MIB (each must arrive within the edge's EDGE_REQUEST_TIMEOUT_SECONDS,
// as a tus client's chunks must) and downloaded again, beside writing and reading the same bytes on the same disk
// in the same run; and the edge's and media's RSS growth while the upload runs. The client streams
// from and to files: it never holds the attachment either.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TusClient } from '@parley/testing';
import { signedInAccounts } from '../support/messaging.mjs';
import { num, row } from '../support/table.mjs';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.BENCH_MEDIA_MIB ?? 1024);
const BLOCK = 8 * MIB;
const CHUNK_MIB = 32;
const RSS_LIMIT_MB = 64;

/** Resident memory of a process, in bytes (from /proc). */
function rss(pid) {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Samples the RSS of `pids` every 50 ms until stopped; returns each one's growth over its first reading. */
function watchRss(pids) {
  const first = pids.map(rss);
  const peak = [...first];
  const timer = setInterval(() => pids.forEach((pid, i) => (peak[i] = Math.max(peak[i], rss(pid)))), 50);
  return {
    stop() {
      clearInterval(timer);
      return pids.map((_, i) => peak[i] - first[i]);
    },
  };
}

/** Writes `size` random bytes to `path` (fsync'd), timed; returns {seconds, sha256}. */
async function rawWrite(path, size) {
  const file = await open(path, 'w');
  const hash = createHash('sha256');
  const start = performance.now();
  for (let written = 0; written < size; written += BLOCK) {
    const block = randomBytes(Math.min(BLOCK, size - written));
    hash.update(block);
    await file.write(block);
  }
  await file.sync();
  await file.close();
  return { seconds: (performance.now() - start) / 1000, sha256: hash.digest('hex') };
}

const sha256Sink = (hash) => new Writable({ write: (chunk, _enc, done) => (hash.update(chunk), done()) });

const mbPerSecond = (bytes, seconds) => bytes / MIB / seconds;

export default {
  name: 'media',
  about: `a ${SIZE_MIB} MiB attachment uploaded (tus, ${CHUNK_MIB} MiB PATCHes) and downloaded through the edge, beside raw disk write and read of the same bytes; edge and media RSS growth during the upload`,
  services: ['auth', 'media', 'edge'],
  // Media's V8 flags as k8s/base/media/deployment.yaml sets them.
  env: { media: { NODE_OPTIONS: '--max-semi-space-size=2', MEDIA_MAX_ATTACHMENT_BYTES: String(SIZE_MIB * MIB), MEDIA_QUOTA_BYTES_PER_USER: String(4 * SIZE_MIB * MIB) } },
  ownStack: true,
  async run(ctx) {
    const size = SIZE_MIB * MIB;
    const dir = mkdtempSync(join(tmpdir(), 'parley-bench-media-'));
    try {
      const [[me]] = await signedInAccounts(ctx.stack, ctx.clients, 'media', 1, 1, { awaitMessaging: false });
      const tus = new TusClient(ctx.stack.edgeUrl, me.tokens.accessToken);
      const source = join(dir, 'attachment.enc');
      const write = await rawWrite(source, size);
      const readStart = performance.now();
      await pipeline(createReadStream(source), sha256Sink(createHash('sha256')));
      const readSeconds = (performance.now() - readStart) / 1000;
      ctx.note(`raw disk: write ${num(mbPerSecond(size, write.seconds))} MB/s, read ${num(mbPerSecond(size, readSeconds))} MB/s`);

      const created = await tus.create(size, { sha256: write.sha256 });
      if (created.status !== 201) throw new Error(`upload creation answered ${created.status}: ${created.text}`);
      const location = String(created.headers.location);
      const pids = [ctx.stack.services.edge.pid, ctx.stack.services.media.pid];
      const memory = watchRss(pids);
      const cpu = ctx.startCpu();
      const upStart = performance.now();
      let uploaded;
      for (let offset = 0; offset < size; offset += CHUNK_MIB * MIB) {
        const length = Math.min(CHUNK_MIB * MIB, size - offset);
        uploaded = await tus.patchStream(location, offset, createReadStream(source, { start: offset, end: offset + length - 1 }), length);
        if (uploaded.status !== 204) break;
      }
      const upSeconds = (performance.now() - upStart) / 1000;
      cpu.stop();
      const [edgeGrowth, mediaGrowth] = memory.stop();
      if (uploaded.status !== 204) throw new Error(`upload answered ${uploaded.status}: ${uploaded.text}`);

      const hash = createHash('sha256');
      const downStart = performance.now();
      const downloaded = await tus.downloadTo(location.split('/').pop(), sha256Sink(hash));
      const downSeconds = (performance.now() - downStart) / 1000;
      if (downloaded.status !== 200 || hash.digest('hex') !== write.sha256) throw new Error(`download answered ${downloaded.status} or differs`);
      ctx.note(`through the edge: upload ${num(mbPerSecond(size, upSeconds))} MB/s, download ${num(mbPerSecond(size, downSeconds))} MB/s`);

      const up = mbPerSecond(size, upSeconds);
      const rawUp = mbPerSecond(size, write.seconds);
      const down = mbPerSecond(size, downSeconds);
      const rawDown = mbPerSecond(size, readSeconds);
      const samples = `${SIZE_MIB} MiB once`;
      const growth = (bytes) => `${num(bytes / MIB)} MB`;
      return [
        row('media upload through the edge (tus, digest checked)', `${num(up)} MB/s`, `raw disk write ${num(rawUp)} MB/s`, { ratio: up / rawUp, target: { text: '≥ 0.5x', met: up / rawUp >= 0.5 }, samples }),
        row('media download through the edge', `${num(down)} MB/s`, `raw disk read ${num(rawDown)} MB/s`, { ratio: down / rawDown, target: { text: '≥ 0.5x', met: down / rawDown >= 0.5 }, samples }),
        row('edge RSS growth during the upload', growth(edgeGrowth), 'none', { target: { text: `< ${RSS_LIMIT_MB} MB`, met: edgeGrowth < RSS_LIMIT_MB * MIB }, samples }),
        row('media RSS growth during the upload', growth(mediaGrowth), 'none', { target: { text: `< ${RSS_LIMIT_MB} MB`, met: mediaGrowth < RSS_LIMIT_MB * MIB }, samples }),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
