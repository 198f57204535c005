// What idle Subscribe streams cost an edge: the resident memory (VmRSS from /proc) of a fresh edge
// process holding STREAMS open streams, beside the same process holding none, in kB per stream.
// - The edge is a replica started for this figure, so no other figure's work is in its heap.
// - Each stream is a distinct device (a newer Subscribe for a device ends the older one). Linking
//   that many devices through auth would take minutes, so the figure registers ACCOUNTS real
//   accounts and signs tokens for device ids 1…DEVICES_PER_ACCOUNT of each with the stack's own
//   auth key (support/tokens.mjs): the edge and messaging check tokens by signature alone, so to
//   them these are ordinary devices with empty queues.
// - The streams are opened from this process over HTTP/1.1 keep-alive, one TCP connection each
//   (ulimit -n must exceed STREAMS), and each counts as open once it sent QueueEmpty.
// - Each reading is taken after SETTLE_MS of idleness, then again after a full GC in the edge
//   (support/gc-on-signal.cjs): RSS as the OS sees it, and live heap.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { metricValue, withToken } from '@parley/testing';
import { edgeClients } from '../support/clients.mjs';
import { mapConcurrently } from '../support/measure.mjs';
import { Subscription, signedInAccounts } from '../support/messaging.mjs';
import { num, row } from '../support/table.mjs';
import { tokenMinter } from '../support/tokens.mjs';

const STREAMS = 10_000;
const DEVICES_PER_ACCOUNT = 100;
const ACCOUNTS = STREAMS / DEVICES_PER_ACCOUNT;
const OPEN_IN_FLIGHT = 200;
const SETTLE_MS = 3000;
const MB = 1024 * 1024;

/** The process's resident set, from /proc (VmRSS is in kB). */
function rssBytes(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

/** After SETTLE_MS idle: the edge's RSS and open streams, then its RSS and live heap right after a full GC. */
async function edgeReading(edge) {
  await sleep(SETTLE_MS);
  const metrics = async () => (await fetch(`http://127.0.0.1:${edge.metricsPort}/metrics`)).text();
  const rss = rssBytes(edge.pid);
  const streamsOpen = metricValue(await metrics(), 'parley_edge_streams_open');
  process.kill(edge.pid, 'SIGUSR2');
  await sleep(1000);
  return { rss, streamsOpen, rssAfterGc: rssBytes(edge.pid), liveHeap: metricValue(await metrics(), 'nodejs_heap_size_used_bytes') };
}

export default {
  name: 'idleStreams',
  about: `edge RSS per idle Subscribe stream, ${num(STREAMS)} streams on a fresh edge`,
  services: ['auth', 'messaging', 'edge'],
  async run(ctx) {
    const accounts = await signedInAccounts(ctx.stack, ctx.clients, 'idle', ACCOUNTS, 1, { awaitMessaging: false });
    const mint = await tokenMinter(ctx.stack);
    const devices = [];
    for (const [{ userId }] of accounts) {
      for (let deviceId = 1; deviceId <= DEVICES_PER_ACCOUNT; deviceId++) devices.push({ userId, deviceId, as: withToken(await mint(userId, deviceId)) });
    }
    const { process: edge, url } = await ctx.startReplica('edge');
    const clients = edgeClients(url);
    const none = await edgeReading(edge);

    const cpu = ctx.startCpu();
    const openedAt = performance.now();
    let subscriptions = [];
    let holding;
    try {
      subscriptions = await mapConcurrently(devices.length, OPEN_IN_FLIGHT, async (i) => {
        const subscription = new Subscription(clients, devices[i]);
        await subscription.open();
        return subscription;
      });
      const openSeconds = (performance.now() - openedAt) / 1000;
      holding = await edgeReading(edge);
      cpu.stop();
      subscriptions.forEach((s) => s.check());
      ctx.note(`opened ${num(STREAMS)} streams in ${num(openSeconds)} s`);
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
    }
    if (holding.streamsOpen !== STREAMS) throw new Error(`the edge reports ${holding.streamsOpen} streams open, not ${STREAMS}`);
    const perStream = (key) => `${num((holding[key] - none[key]) / STREAMS / 1024)} kB`;
    const mb = (bytes) => `${num(bytes / MB)} MB`;
    ctx.note(`edge RSS ${mb(none.rss)} → ${mb(holding.rss)}; after GC ${mb(none.rssAfterGc)} → ${mb(holding.rssAfterGc)}; live heap ${mb(none.liveHeap)} → ${mb(holding.liveHeap)}`);
    return [
      row(`edge RSS per idle Subscribe stream, at ${num(STREAMS)} streams`, `${perStream('rss')} per stream (RSS ${mb(holding.rss)}; after GC ${perStream('rssAfterGc')}, live heap ${perStream('liveHeap')} per stream)`, `the same edge with no streams: RSS ${mb(none.rss)} (after GC ${mb(none.rssAfterGc)})`, {
        ratio: holding.rss / none.rss,
        samples: `${num(STREAMS)} streams, one reading each`,
      }),
    ];
  },
};
