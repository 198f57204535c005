// The offline queue: SENDERS senders, each in its own direct conversation with one device that has
// no Subscribe open, send it QUEUE messages (the offline-store rate: sends committed into a
// disconnected device's queue, per second), beside pgbench single-row INSERTs with as many
// clients, half before and half after. Then that device subscribes, and receives and acks until its queue is empty (the drain
// rate, from Subscribe open to the last ack), beside the same pgbench rate as context.
import { cpuLine } from '../support/cpu.mjs';
import { Subscription, Tally, directLanes, sendMessages, signedInAccounts, untilAcked } from '../support/messaging.mjs';
import { bracketed, insertRow } from '../support/pgbench.mjs';
import { num, perSecond, row } from '../support/table.mjs';

const SENDERS = 16;
const QUEUE = 10_000;
const PGBENCH_SECONDS = 6;
const STORE_TARGET = 0.5; // × pgbench
const DRAIN_TARGET = 10_000; // messages/s

export default {
  name: 'offline',
  about: `${QUEUE} messages from ${SENDERS} senders into an offline device's queue, then its drain on Subscribe`,
  services: ['auth', 'messaging', 'edge'],
  async run(ctx) {
    const { stack, clients } = ctx;
    const [[receiver], ...senders] = await signedInAccounts(stack, clients, 'offline', SENDERS + 1);
    const lanes = await directLanes(clients, senders.map(([sender]) => [sender, receiver]));

    const db = await ctx.scratchDatabase();
    const [{ sent, seconds, used }, inserts] = await bracketed(db, insertRow, { clients: SENDERS, seconds: PGBENCH_SECONDS }, async () => {
      const cpu = ctx.startCpu();
      const { sent: stored, startedAt } = await sendMessages(lanes, { limit: QUEUE });
      return { sent: stored, seconds: (performance.now() - startedAt) / 1000, used: cpu.stop() };
    });
    const store = { sent, seconds, perSecond: sent / seconds };
    ctx.note(`stored ${sent} messages in ${num(seconds)} s, ${num(store.perSecond)}/s; pgbench INSERT ${perSecond(inserts)}`);
    ctx.note(cpuLine(used, sent, 'stored message'));

    const tally = new Tally();
    const subscription = new Subscription(clients, receiver, tally.onEnvelope);
    const drainCpu = ctx.startCpu();
    const opened = performance.now();
    let drain;
    try {
      await subscription.open();
      const lastAck = await untilAcked([subscription], QUEUE);
      const drainSeconds = (lastAck - opened) / 1000;
      drain = { seconds: drainSeconds, perSecond: QUEUE / drainSeconds };
      ctx.note(`drained ${QUEUE} in ${num(drainSeconds)} s, ${num(drain.perSecond)}/s`);
      ctx.note(cpuLine(drainCpu.stop(), QUEUE, 'drained message'));
    } finally {
      await subscription.close();
    }
    const { lost, duplicated, unexpected } = tally.check(sent);
    if (lost + duplicated + unexpected > 0) throw new Error(`the drain lost ${lost}, duplicated ${duplicated} and made up ${unexpected} of ${sent} messages`);

    const storeRatio = store.perSecond / inserts.perSecond;
    return [
      row(`offline store: sends into a disconnected device's queue, ${SENDERS} senders`, perSecond(store, ' msg/s'), `pgbench single-row INSERT, ${SENDERS} clients: ${perSecond(inserts, ' tps')}`, {
        ratio: storeRatio,
        target: { text: `≥ ${STORE_TARGET}x`, met: storeRatio >= STORE_TARGET },
        samples: `${num(sent)} msgs in ${num(seconds)} s; ${num(inserts.samples)} txns`,
      }),
      row(`drain on reconnect: ${num(QUEUE)}-message queue received and acked, one device`, perSecond(drain, ' msg/s'), `context: pgbench single-row INSERT, ${SENDERS} clients: ${perSecond(inserts, ' tps')}`, {
        ratio: drain.perSecond / inserts.perSecond,
        target: { text: `≥ ${num(DRAIN_TARGET)}/s`, met: drain.perSecond >= DRAIN_TARGET },
        samples: `${num(QUEUE)} msgs in ${num(drain.seconds)} s, exactly once`,
      }),
    ];
  },
};
