// Scaling out: the 1:1 rate of PAIRS senders and receivers (as in oneToOne) through two edges and
// two messaging processes, beside the same through one of each, measured in the same run. With
// two, edge A forwards to messaging A and edge B to messaging B (as one HTTP/2 connection to a
// Kubernetes Service would stick to one pod), half the senders use each edge, and each receiver
// subscribes on the edge its sender does not use, so every message crosses from one pair to the
// other. Both runs check that every message sent was received and acked exactly once, by the right
// device.
import { edgeClients } from '../support/clients.mjs';
import { cpuLine } from '../support/cpu.mjs';
import { Tally, deliver, directLanes, signedInAccounts, subscribeAll } from '../support/messaging.mjs';
import { num, perSecond, row } from '../support/table.mjs';

const PAIRS = 16;
const WARMUP_SECONDS = 2;
const SECONDS = 12;
const TARGET = 0.9; // × one of each

/** Delivers for SECONDS on `lanes` to receivers subscribed through `receiverClients(i)`; checks exactly once. */
async function measureDelivery(ctx, lanes, receiverClients) {
  const tally = new Tally();
  const subscriptions = await subscribeAll(receiverClients, lanes.map((l) => l.recipients[0]), tally.onEnvelope);
  subscriptions.forEach((s, i) => (s.lane = i));
  try {
    await deliver(lanes, subscriptions, { seconds: WARMUP_SECONDS });
    tally.reset();
    const cpu = ctx.startCpu();
    const run = await deliver(lanes, subscriptions, { seconds: SECONDS });
    const used = cpu.stop();
    const { lost, duplicated, unexpected, misrouted } = tally.check(run.sent);
    const received = subscriptions.reduce((n, s) => n + s.received, 0);
    const acked = subscriptions.reduce((n, s) => n + s.acked, 0);
    if (lost + duplicated + unexpected + misrouted > 0 || received !== acked) {
      throw new Error(`of ${run.sent} messages ${lost} were lost, ${duplicated} duplicated, ${unexpected} unexpected, ${misrouted} at the wrong device; ${received} received, ${acked} acked`);
    }
    return { ...run, used };
  } finally {
    await Promise.all(subscriptions.map((s) => s.close()));
  }
}

export default {
  name: 'scaleOut',
  about: `1:1 rate through two edges and two messaging processes beside one of each, every message checked exactly once`,
  services: ['auth', 'messaging', 'edge'],
  async run(ctx) {
    const { stack, clients } = ctx;
    const accounts = await signedInAccounts(stack, clients, 'scale_out', 2 * PAIRS);
    const pairs = Array.from({ length: PAIRS }, (_, i) => [accounts[2 * i][0], accounts[2 * i + 1][0]]);

    const single = await measureDelivery(ctx, await directLanes(clients, pairs), () => clients);
    ctx.note(`one edge, one messaging: ${single.sent} messages, ${perSecond(single)}, exactly once`);
    ctx.note(cpuLine(single.used, single.sent, 'message'));

    const messagingB = await ctx.startReplica('messaging');
    const edgeB = await ctx.startReplica('edge', { MESSAGING_URL: messagingB.url });
    const sides = [clients, edgeClients(edgeB.url)];
    const lanes = await directLanes(clients, pairs, (i) => sides[i % 2]);
    const double = await measureDelivery(ctx, lanes, (i) => sides[(i + 1) % 2]);
    ctx.note(`two edges, two messaging: ${double.sent} messages, ${perSecond(double)}, exactly once`);
    ctx.note(cpuLine(double.used, double.sent, 'message'));

    const ratio = double.perSecond / single.perSecond;
    return [
      row(`two edges + two messaging: 1:1 delivered, ${PAIRS} senders, crossing edges`, `${perSecond(double, ' msg/s')}, all exactly once (Parley CPU ${num(double.used.parley / double.sent)} ms/msg)`, `one edge + one messaging: ${perSecond(single, ' msg/s')}, all exactly once (Parley CPU ${num(single.used.parley / single.sent)} ms/msg)`, {
        ratio,
        target: { text: `≥ ${TARGET}x`, met: ratio >= TARGET },
        samples: `${num(double.sent)} msgs; ${num(single.sent)} msgs`,
      }),
    ];
  },
};
