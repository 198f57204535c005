// Measures what idle DeliveryService.Subscribe streams cost one edge process: its resident memory
// (VmRSS from /proc) holding STREAMS open streams, beside the same process holding none, and the
// bytes per stream; also how fast they open and the edge's V8 heap.
// - Each stream is a distinct device (a newer Subscribe for a device ends the older one), so the
//   run needs STREAMS device tokens. Signing that many devices in through auth took ~11 minutes on
//   this loaded 2-core machine (about 26 registrations and links a second), so the run registers
//   ACCOUNTS real accounts through the edge and signs tokens for device ids 1…DEVICES_PER_ACCOUNT
//   of each with the stack's own auth key (bench/support/tokens.mjs): the claims auth would issue,
//   for devices auth never linked. The edge and messaging check tokens by signature alone, so to
//   them these are ordinary devices with empty queues; the registrations warm the edge before the
//   baseline is read.
// - The streams are opened from this one process over HTTP/1.1 keep-alive, one TCP connection
//   each (ulimit -n must exceed STREAMS), and each counts as open once it sent QueueEmpty.
// - Each figure is read after SETTLE_MS of idleness (nothing is sent on the streams but what the
//   edge sends by itself), then again after a full GC in the edge, forced through a preload that
//   collects on SIGUSR2 (bench/support/gc-on-signal.cjs): RSS as the OS sees it, and live heap.
// Run: npm run build && npm exec -- node bench/edge-idle-streams.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { metricValue, startTestStack, withToken } from '@parley/testing';
import { Subscription, edgeClients, mapConcurrently, signedInAccounts } from './support/messaging.mjs';
import { header } from './support/measure.mjs';
import { tokenMinter } from './support/tokens.mjs';

const STREAMS = 10_000;
const DEVICES_PER_ACCOUNT = 100;
const ACCOUNTS = STREAMS / DEVICES_PER_ACCOUNT;
const OPEN_CONCURRENCY = 200;
const SETTLE_MS = 5000;
const MB = 1024 * 1024;

/** The process's resident set, from /proc (VmRSS is in kB). */
function rssBytes(pid) {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** The edge's RSS, heap used and open streams after SETTLE_MS idle, and its RSS and heap right after a full GC. */
async function edgeFigures(stack) {
  await sleep(SETTLE_MS);
  const read = async () => {
    const metrics = await stack.metrics('edge');
    return {
      rss: rssBytes(stack.services.edge.pid),
      heapUsed: metricValue(metrics, 'nodejs_heap_size_used_bytes'),
      streamsOpen: metricValue(metrics, 'parley_edge_streams_open'),
    };
  };
  const idle = await read();
  process.kill(stack.services.edge.pid, 'SIGUSR2');
  await sleep(1000);
  const collected = await read();
  return { ...idle, rssAfterGc: collected.rss, liveHeap: collected.heapUsed };
}

const gcOnSignal = fileURLToPath(new URL('./support/gc-on-signal.cjs', import.meta.url));
const stack = await startTestStack({
  services: ['auth', 'messaging', 'edge'],
  env: { auth: { BCRYPT_COST: '4' }, edge: { NODE_OPTIONS: `--expose-gc --require ${gcOnSignal}` } },
});
let subscriptions = [];
try {
  const clients = edgeClients(stack.edgeUrl);
  const accounts = await signedInAccounts(stack, clients, 'bench_idle', ACCOUNTS, 1, { awaitMessaging: false });
  const mint = await tokenMinter(stack);
  const devices = [];
  for (const [{ userId }] of accounts) {
    for (let deviceId = 1; deviceId <= DEVICES_PER_ACCOUNT; deviceId++) devices.push({ userId, deviceId, as: withToken(await mint(userId, deviceId)) });
  }

  const idle = await edgeFigures(stack);
  const clientRssBefore = process.memoryUsage().rss;
  const openStarted = performance.now();
  subscriptions = await mapConcurrently(devices.length, OPEN_CONCURRENCY, async (i) => {
    const subscription = new Subscription(clients, devices[i]);
    await subscription.open();
    return subscription;
  });
  const openSeconds = (performance.now() - openStarted) / 1000;
  const holding = await edgeFigures(stack);
  const holdingLater = await edgeFigures(stack);
  await Promise.all(subscriptions.map((s) => s.check()));
  const clientRss = process.memoryUsage().rss - clientRssBefore;
  await Promise.all(subscriptions.map((s) => s.close()));
  subscriptions = [];
  const closed = await edgeFigures(stack);

  const mb = (bytes) => `${(bytes / MB).toFixed(1)} MB`;
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
  const line = (name, f, note = '') => console.log(`${name.padEnd(44)} ${mb(f.rss).padStart(10)} ${mb(f.rssAfterGc).padStart(10)} ${mb(f.heapUsed).padStart(10)} ${mb(f.liveHeap).padStart(10)}  ${note}`);
  if (holding.streamsOpen !== STREAMS) throw new Error(`the edge reports ${holding.streamsOpen} streams open, not ${STREAMS}`);
  header(`${ACCOUNTS} accounts x ${DEVICES_PER_ACCOUNT} device tokens; each figure after ${SETTLE_MS / 1000} s idle`);
  console.log(`${'edge process'.padEnd(44)} ${'RSS'.padStart(10)} ${'after GC'.padStart(10)} ${'heap used'.padStart(10)} ${'live heap'.padStart(10)}`);
  line('baseline: 0 streams', idle);
  line(`${STREAMS} idle Subscribe streams`, holding, `RSS ${(holding.rss / idle.rss).toPrecision(2)}x the baseline`);
  line(`the same, ${SETTLE_MS / 1000} s later`, holdingLater);
  line('after the streams closed', closed);
  const perStream = (a, b) => kb((holding[a] - idle[a]) / STREAMS).padStart(b);
  console.log(`${'per stream'.padEnd(44)} ${perStream('rss', 10)} ${perStream('rssAfterGc', 10)} ${perStream('heapUsed', 10)} ${perStream('liveHeap', 10)}`);
  console.log(`\nopening ${STREAMS} streams, ${OPEN_CONCURRENCY} at a time: ${openSeconds.toFixed(1)} s (${(STREAMS / openSeconds).toFixed(0)} streams/s); this client's RSS grew ${mb(clientRss)}`);
} finally {
  await Promise.all(subscriptions.map((s) => s.close()));
  await stack.cleanup();
}
