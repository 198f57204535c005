// Message franking's cost on the send path: the same 1:1 sends as oneToOne (SENDERS senders, each to
// its own receiver that holds Subscribe open and acks), with a franking commitment on every message
// and without, in alternating rounds on one stack. CPU per send of every service process, from
// /proc, and of messaging alone (which makes one reporting tag per envelope). Every franked
// envelope must arrive tagged, and no unfranked one.
import { deliver, directLanes, signedInAccounts, subscribeAll } from '../support/messaging.mjs';
import { num, row } from '../support/table.mjs';

const SENDERS = 16;
const WARMUP_SECONDS = 2;
const ROUNDS = 3;
const SECONDS = 4;

const us = (cpuMs, sends) => `${num((cpuMs * 1000) / sends)} µs`;

export default {
  name: 'franking',
  about: `CPU µs per 1:1 send with a franking commitment beside the same send without, ${SENDERS} senders, ${ROUNDS} alternating rounds`,
  services: ['auth', 'messaging', 'edge'],
  async run(ctx) {
    const { stack, clients } = ctx;
    const accounts = await signedInAccounts(stack, clients, 'franking', 2 * SENDERS);
    const lanes = await directLanes(
      clients,
      Array.from({ length: SENDERS }, (_, i) => [accounts[2 * i][0], accounts[2 * i + 1][0]]),
    );
    let tagged = 0;
    const subscriptions = await subscribeAll(() => clients, lanes.map((l) => l.recipients[0]), (envelope) => {
      if (envelope.reportingTag) tagged++;
    });
    const totals = { plain: { sent: 0, cpu: [] }, franked: { sent: 0, cpu: [] } };
    try {
      ctx.note(`${SENDERS} pairs subscribed; warming up for ${WARMUP_SECONDS} s each way`);
      await deliver(lanes, subscriptions, { seconds: WARMUP_SECONDS });
      await deliver(lanes, subscriptions, { seconds: WARMUP_SECONDS, franked: true });
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which goes first, so a drift of the box's load falls on both alike.
        for (const franked of round % 2 === 0 ? [false, true] : [true, false]) {
          const taggedBefore = tagged;
          const cpu = ctx.startCpu();
          const run = await deliver(lanes, subscriptions, { seconds: SECONDS, franked });
          const used = cpu.stop();
          const expected = franked ? run.envelopes : 0;
          if (tagged - taggedBefore !== expected) throw new Error(`${tagged - taggedBefore} tagged envelopes arrived, expected ${expected}`);
          const total = totals[franked ? 'franked' : 'plain'];
          total.sent += run.sent;
          total.cpu.push(used);
          ctx.note(`round ${round + 1}, ${franked ? 'franked' : 'unfranked'}: ${run.sent} sends, Parley ${us(used.parley, run.sent)}/send (messaging ${us(used.byProcess.messaging, run.sent)})`);
        }
      }
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
    }

    const sum = (t, pick) => t.cpu.reduce((s, used) => s + pick(used), 0);
    const per = (t, pick) => (sum(t, pick) * 1000) / t.sent;
    const describe = (t) =>
      `${us(sum(t, (u) => u.parley), t.sent)} (${Object.keys(t.cpu[0].byProcess)
        .map((name) => `${name} ${us(sum(t, (u) => u.byProcess[name]), t.sent)}`)
        .join(', ')}; PostgreSQL, whole server, ${us(sum(t, (u) => u.postgres), t.sent)})`;
    const { plain, franked } = totals;
    return [
      row(`Parley CPU per 1:1 send, franked (${SENDERS} senders)`, describe(franked), `the same send unfranked: ${describe(plain)}`, {
        ratio: per(franked, (u) => u.parley) / per(plain, (u) => u.parley),
        samples: `${num(franked.sent)} franked, ${num(plain.sent)} unfranked sends`,
      }),
      row(`franking's extra CPU per send: messaging (where the tags are made)`, `${num(per(franked, (u) => u.byProcess.messaging) - per(plain, (u) => u.byProcess.messaging))} µs`, `messaging unfranked: ${us(sum(plain, (u) => u.byProcess.messaging), plain.sent)}`, {
        ratio: per(franked, (u) => u.byProcess.messaging) / per(plain, (u) => u.byProcess.messaging),
        samples: `${num(franked.sent)} franked, ${num(plain.sent)} unfranked sends`,
      }),
    ];
  },
};
