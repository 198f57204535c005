// Scaling out: the 1:1 rate of PAIRS senders and receivers (as in oneToOne) through two edges and
// two messaging processes, beside the same through one of each, in the same run. With two, edge A
// forwards to messaging A and edge B to messaging B (as one HTTP/2 connection to a Kubernetes
// Service would stick to one pod), half the senders use each edge, and each receiver subscribes on
// the edge its sender does not use, so every message crosses from one pair to the other. With one,
// every sender and receiver uses edge A, and B's pair idles. The two alternate in ROUNDS rounds,
// so both see the same load from other work on the box. Every round checks that every message sent
// was received and acked exactly once, by the right device.
import { edgeClients } from '../support/clients.mjs';
import { cpuLine } from '../support/cpu.mjs';
import { Tally, deliver, directLanes, signedInAccounts, subscribeAll } from '../support/messaging.mjs';
import { num, perSecond, row } from '../support/table.mjs';

const PAIRS = 16;
const ROUNDS = 3;
const WARMUP_SECONDS = 1; // each round
const SECONDS = 12; // each side, over all rounds
const TARGET = 0.9; // × one of each

/** One round: subscribes the receivers, warms up, delivers for `seconds`, checks exactly once. Returns {sent, seconds, used}. */
async function round(ctx, lanes, receiverClients, seconds) {
  const tally = new Tally();
  const subscriptions = await subscribeAll(receiverClients, lanes.map((l) => l.recipients[0]), tally.onEnvelope);
  subscriptions.forEach((s, i) => (s.lane = i));
  try {
    await deliver(lanes, subscriptions, { seconds: WARMUP_SECONDS });
    tally.reset();
    const cpu = ctx.startCpu();
    const run = await deliver(lanes, subscriptions, { seconds });
    const used = cpu.stop();
    const { lost, duplicated, unexpected, misrouted } = tally.check(run.sent);
    const received = subscriptions.reduce((n, s) => n + s.received, 0);
    const acked = subscriptions.reduce((n, s) => n + s.acked, 0);
    if (lost + duplicated + unexpected + misrouted > 0 || received !== acked) {
      throw new Error(`of ${run.sent} messages ${lost} were lost, ${duplicated} duplicated, ${unexpected} unexpected, ${misrouted} at the wrong device; ${received} received, ${acked} acked`);
    }
    return { sent: run.sent, seconds: run.seconds, used };
  } finally {
    await Promise.all(subscriptions.map((s) => s.close()));
  }
}

/** The rounds of one set-up added up: {sent, perSecond, parleyCpu (ms), cpuLine}. */
function total(rounds) {
  const sent = rounds.reduce((n, r) => n + r.sent, 0);
  const perSecond = sent / rounds.reduce((s, r) => s + r.seconds, 0);
  const used = rounds.map((r) => r.used).reduce((a, b) => ({
    ...a,
    parley: a.parley + b.parley,
    byProcess: Object.fromEntries(Object.entries(a.byProcess).map(([name, ms]) => [name, ms + b.byProcess[name]])),
    client: a.client + b.client,
    postgres: a.postgres + b.postgres,
    nats: a.nats + b.nats,
    boxBusyCores: (a.boxBusyCores * a.seconds + b.boxBusyCores * b.seconds) / (a.seconds + b.seconds),
    otherCores: (a.otherCores * a.seconds + b.otherCores * b.seconds) / (a.seconds + b.seconds),
    seconds: a.seconds + b.seconds,
  }));
  return { sent, perSecond, parleyCpu: used.parley, cpuLine: cpuLine(used, sent, 'message') };
}

export default {
  name: 'scaleOut',
  about: `1:1 rate through two edges and two messaging processes beside one of each, every message checked exactly once`,
  services: ['auth', 'messaging', 'edge'],
  async run(ctx) {
    const { stack, clients } = ctx;
    const accounts = await signedInAccounts(stack, clients, 'scale_out', 2 * PAIRS);
    const pairs = Array.from({ length: PAIRS }, (_, i) => [accounts[2 * i][0], accounts[2 * i + 1][0]]);
    const messagingB = await ctx.startReplica('messaging');
    const edgeB = await ctx.startReplica('edge', { MESSAGING_URL: messagingB.url });
    const sides = [clients, edgeClients(edgeB.url)];
    const oneLanes = await directLanes(clients, pairs);
    const twoLanes = oneLanes.map((lane, i) => ({ ...lane, clients: sides[i % 2] }));

    const one = [];
    const two = [];
    for (let r = 0; r < ROUNDS; r++) {
      one.push(await round(ctx, oneLanes, () => clients, SECONDS / ROUNDS));
      two.push(await round(ctx, twoLanes, (i) => sides[(i + 1) % 2], SECONDS / ROUNDS));
      ctx.note(`round ${r + 1}: one of each ${num(one[r].sent / one[r].seconds)}/s, two of each ${num(two[r].sent / two[r].seconds)}/s, all exactly once`);
    }
    const single = total(one);
    const double = total(two);
    ctx.note(`one edge, one messaging: ${single.sent} messages, ${perSecond(single)}; ${single.cpuLine}`);
    ctx.note(`two edges, two messaging: ${double.sent} messages, ${perSecond(double)}; ${double.cpuLine}`);

    const ratio = double.perSecond / single.perSecond;
    return [
      row(`two edges + two messaging: 1:1 delivered, ${PAIRS} senders, crossing edges`, `${perSecond(double, ' msg/s')}, all exactly once (Parley CPU ${num(double.parleyCpu / double.sent)} ms/msg)`, `one edge + one messaging: ${perSecond(single, ' msg/s')}, all exactly once (Parley CPU ${num(single.parleyCpu / single.sent)} ms/msg)`, {
        ratio,
        target: { text: `≥ ${TARGET}x`, met: ratio >= TARGET },
        samples: `${num(double.sent)} msgs; ${num(single.sent)} msgs; ${ROUNDS} rounds each`,
      }),
    ];
  },
};
