// Measures message delivery end to end through the edge (SendMessage, received on the recipient's
// Subscribe stream, acked with AckDeliveries), each figure beside a baseline taken in the same run
// on the same PostgreSQL with pgbench (a scratch database, one table, a custom INSERT script):
// - 1:1 delivered messages/s, CONCURRENCY senders each in its own direct conversation with its own
//   receiver, against pgbench single-row INSERT TPS with as many clients;
// - send→receive latency one message at a time (nothing else running), and with sends paced at
//   half the measured 1:1 rate, against pgbench paced at the same rate (-R);
// - envelopes/s for a GROUP_MEMBERS-member group of DEVICES_PER_MEMBER devices each (one send
//   carries an envelope for every device but the sender's), counted as received and acked by every
//   subscribed device, against pgbench inserting as many rows per transaction (rows/s).
// A message's ciphertext carries its send time, so latency is measured in this one process.
// Where the CPU goes: each process's CPU time (from /proc) per delivered message (or envelope).
// Accounts: auth runs with BCRYPT_COST=4; devices are linked with the password.
// Run: npm run build && npm exec -- node bench/messaging-throughput.mjs
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestStack } from '@parley/testing';
import { cpuMs, header, latencyRow, row, summarize } from './support/measure.mjs';
import { Subscription, as, edgeClients, envelopesTo, mapConcurrently, signedInAccounts, untilAcked } from './support/messaging.mjs';
import { pgbench, scratchDatabase } from './support/pgbench.mjs';

const CONCURRENCY = 16;
const WARMUP = 400;
const MESSAGES = 4000;
const SERIAL_MESSAGES = 200;
const PACED_SECONDS = 10;
const PGBENCH_SECONDS = 10;
const GROUP_MEMBERS = 100;
const DEVICES_PER_MEMBER = 3;
const GROUP_MESSAGES = 40;
const GROUP_CONCURRENCY = 4;
const CIPHERTEXT_BYTES = 160;
const WIDTH = 66;

const insertRow = `\\set x random(1, 1000000000)\ninsert into t (v, body) values (:x, '\\x${'00'.repeat(CIPHERTEXT_BYTES)}');\n`;
const insertRows = (n) => `\\set x random(1, 1000000000)\ninsert into t (v, body) select :x, '\\x${'00'.repeat(CIPHERTEXT_BYTES)}' from generate_series(1, ${n});\n`;

/** A ciphertext whose first 8 bytes are the time it was sent at. */
function stamped() {
  const bytes = Buffer.alloc(CIPHERTEXT_BYTES);
  bytes.writeDoubleLE(performance.now(), 0);
  return bytes;
}

/** Where subscriptions put each envelope's send→receive latency. */
let latencies = [];
const onEnvelope = (envelope, receivedAt) => latencies.push(receivedAt - Buffer.from(envelope.ciphertext).readDoubleLE(0));

async function subscribe(clients, devices) {
  return mapConcurrently(devices.length, 50, async (i) => {
    const subscription = new Subscription(clients, devices[i], onEnvelope);
    await subscription.open();
    return subscription;
  });
}

/**
 * Sends `total` messages, one in flight per entry of `conversations` (optionally paced at `rate`/s
 * overall), and waits until `subscriptions` acked all their envelopes. Rate and latencies run
 * from the first send to the last ack.
 */
async function deliver(clients, conversations, subscriptions, total, { rate, envelopesPerMessage = 1 } = {}) {
  latencies = [];
  const ackedBefore = subscriptions.reduce((n, s) => n + s.acked, 0);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    conversations.map(async ({ conversationId, sender, recipients }) => {
      while (next < total) {
        const k = next++;
        if (rate) await sleep(started + (k * 1000) / rate - performance.now());
        const envelopes = envelopesTo(recipients, stamped());
        await clients.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes }, as(sender));
      }
    }),
  );
  const lastAck = await untilAcked(subscriptions, ackedBefore + total * envelopesPerMessage);
  return summarize(latencies, (lastAck - started) / 1000);
}

/** Runs `run` and returns its figures with the CPU ms each of the edge, messaging and this client used per `units` of work. */
async function withCpu(stack, units, run) {
  const pids = { edge: stack.services.edge.pid, messaging: stack.services.messaging.pid, client: process.pid };
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  const figures = await run();
  const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, (cpuMs(pid) - before[name]) / units]));
  return { ...figures, cpu };
}

const cpuLine = (what, { cpu }) =>
  console.log(`${''.padEnd(WIDTH)} CPU per ${what}: edge ${cpu.edge.toFixed(2)} ms, messaging ${cpu.messaging.toFixed(2)} ms, this client ${cpu.client.toFixed(2)} ms`);

const stack = await startTestStack({ services: ['auth', 'messaging', 'edge'], env: { auth: { BCRYPT_COST: '4' } } });
const subscriptions = [];
try {
  const clients = edgeClients(stack.edgeUrl);
  const pairAccounts = await signedInAccounts(stack, clients, 'bench_pair', 2 * CONCURRENCY, 1);
  const pairs = await mapConcurrently(CONCURRENCY, CONCURRENCY, async (p) => {
    const [[sender], [receiver]] = [pairAccounts[2 * p], pairAccounts[2 * p + 1]];
    const { conversation } = await clients.conversations.openDirectConversation({ userId: receiver.userId }, as(sender));
    return { conversationId: conversation.id, sender, recipients: [receiver] };
  });
  subscriptions.push(...(await subscribe(clients, pairs.map((p) => p.recipients[0]))));

  await deliver(clients, pairs, subscriptions, WARMUP);
  const oneToOne = await withCpu(stack, MESSAGES, () => deliver(clients, pairs, subscriptions, MESSAGES));
  const serial = await deliver(clients, pairs.slice(0, 1), subscriptions, SERIAL_MESSAGES);
  const halfRate = Math.max(1, Math.round(oneToOne.perSecond / 2));
  const paced = await deliver(clients, pairs, subscriptions, halfRate * PACED_SECONDS, { rate: halfRate });

  const members = await signedInAccounts(stack, clients, 'bench_member', GROUP_MEMBERS, DEVICES_PER_MEMBER);
  const [owner, ...others] = members;
  const { conversation: group } = await clients.conversations.createGroup({ memberUserIds: others.map(([d]) => d.userId), encryptedInfo: new Uint8Array(32) }, as(owner[0]));
  const groupRecipients = members.flat().filter((d) => d !== owner[0]);
  const groupSubscriptions = await subscribe(clients, groupRecipients);
  subscriptions.push(...groupSubscriptions);
  const groupSenders = Array.from({ length: GROUP_CONCURRENCY }, () => ({ conversationId: group.id, sender: owner[0], recipients: groupRecipients }));
  const groupEnvelopes = GROUP_MESSAGES * groupRecipients.length;
  const groupDelivery = await withCpu(stack, groupEnvelopes, () =>
    deliver(clients, groupSenders, groupSubscriptions, GROUP_MESSAGES, { envelopesPerMessage: groupRecipients.length }),
  );

  const db = await scratchDatabase(stack, 'bench_pgbench');
  const inserts = await pgbench(db, insertRow, { clients: CONCURRENCY, seconds: PGBENCH_SECONDS });
  const pacedInserts = await pgbench(db, insertRow, { clients: CONCURRENCY, seconds: PGBENCH_SECONDS, rate: halfRate });
  const groupInserts = await pgbench(db, insertRows(groupRecipients.length), { clients: GROUP_CONCURRENCY, seconds: PGBENCH_SECONDS });
  const groupRows = { ...groupInserts, perSecond: groupInserts.perSecond * groupRecipients.length };

  header(`${CIPHERTEXT_BYTES}-byte ciphertexts; Connect binary over HTTP/1.1; latencies are send→receive (pgbench: per transaction)`);
  row(`baseline: pgbench single-row INSERT, ${CONCURRENCY} clients`, inserts, undefined, WIDTH);
  row(`1:1 delivered (sent, received, acked), ${CONCURRENCY} senders`, oneToOne, inserts, WIDTH);
  cpuLine('message', oneToOne);
  latencyRow(`baseline: one message at a time, nothing else running`, serial, undefined, WIDTH);
  latencyRow(`baseline: pgbench single-row INSERT paced at ${halfRate}/s`, pacedInserts, undefined, WIDTH);
  latencyRow(`1:1 paced at ${halfRate}/s (half the 1:1 rate)`, paced, pacedInserts, WIDTH);
  console.log(`${''.padEnd(WIDTH)} against one at a time: p50 ${(paced.p50 / serial.p50).toPrecision(2)}x  p99 ${(paced.p99 / serial.p99).toPrecision(2)}x`);
  row(`baseline: pgbench ${groupRecipients.length}-row INSERT, ${GROUP_CONCURRENCY} clients (rows/s)`, groupRows, undefined, WIDTH);
  row(`group of ${GROUP_MEMBERS}x${DEVICES_PER_MEMBER} devices: envelopes delivered/s, ${GROUP_CONCURRENCY} sends in flight`, groupDelivery, groupRows, WIDTH);
  cpuLine('envelope', groupDelivery);
} finally {
  await Promise.all(subscriptions.map((s) => s.close()));
  await stack.cleanup();
}
