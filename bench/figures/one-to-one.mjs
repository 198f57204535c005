// 1:1 delivery through the edge: SENDERS senders, each in its own direct conversation with its own
// receiver, which holds Subscribe open and acks in batches. A message counts once it was sent,
// committed, streamed to the receiver and acked.
// - delivered/s, from the first send to the last ack, beside pgbench single-row INSERTs with as
//   many clients (half before the run, half after: see bracketed);
// - Parley CPU per delivered message: every service process's CPU over that run, from /proc;
// - p99 send→receive latency with the sends paced at half that rate, beside pgbench paced at the
//   same rate (-R).
import { cpuLine } from '../support/cpu.mjs';
import { Tally, deliver, directLanes, signedInAccounts, subscribeAll } from '../support/messaging.mjs';
import { summarize } from '../support/measure.mjs';
import { bracketed, insertRow } from '../support/pgbench.mjs';
import { latencies, ms, num, perSecond, row } from '../support/table.mjs';

const SENDERS = 16;
const WARMUP_SECONDS = 3;
const SECONDS = 15;
const PACED_SECONDS = 10;
const PGBENCH_SECONDS = 6;

export default {
  name: 'oneToOne',
  about: `1:1 delivered/s with ${SENDERS} senders, Parley CPU per message, p99 latency at half that rate`,
  services: ['auth', 'messaging', 'edge'],
  async run(ctx) {
    const { stack, clients } = ctx;
    const accounts = await signedInAccounts(stack, clients, 'one_to_one', 2 * SENDERS);
    const lanes = await directLanes(
      clients,
      Array.from({ length: SENDERS }, (_, i) => [accounts[2 * i][0], accounts[2 * i + 1][0]]),
    );
    const tally = new Tally();
    const subscriptions = await subscribeAll(() => clients, lanes.map((l) => l.recipients[0]), tally.onEnvelope);
    const db = await ctx.scratchDatabase();
    let full, used, inserts, paced, pacedInserts, halfRate;
    try {
      ctx.note(`${SENDERS} pairs subscribed; warming up for ${WARMUP_SECONDS} s`);
      await deliver(lanes, subscriptions, { seconds: WARMUP_SECONDS });
      tally.reset();
      [full, inserts] = await bracketed(db, insertRow, { clients: SENDERS, seconds: PGBENCH_SECONDS }, async () => {
        const cpu = ctx.startCpu();
        const run = await deliver(lanes, subscriptions, { seconds: SECONDS });
        used = cpu.stop();
        return { ...run, ...summarize(tally.latencies, run.seconds) };
      });
      ctx.note(`${full.sent} messages, ${num(full.perSecond)}/s, ${latencies(full)}; pgbench INSERT ${perSecond(inserts)}`);
      ctx.note(cpuLine(used, full.sent, 'message'));

      halfRate = Math.max(1, Math.round(full.perSecond / 2));
      tally.reset();
      [paced, pacedInserts] = await bracketed(db, insertRow, { clients: SENDERS, seconds: PACED_SECONDS, rate: halfRate }, async () => {
        const run = await deliver(lanes, subscriptions, { limit: halfRate * PACED_SECONDS, rate: halfRate });
        return { ...run, ...summarize(tally.latencies, run.seconds) };
      });
      ctx.note(`paced at ${halfRate}/s: ${paced.sent} messages, ${latencies(paced)}; pgbench paced ${latencies(pacedInserts)}`);
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
    }

    const perMessage = (cpuMs) => ms(cpuMs / full.sent);
    const byProcess = Object.entries(used.byProcess).map(([name, cpuMs]) => `${name} ${perMessage(cpuMs)}`).join(', ');
    return [
      row(`1:1 delivered (sent, committed, streamed, acked), ${SENDERS} senders`, `${perSecond(full, ' msg/s')} (${latencies(full)})`, `pgbench single-row INSERT, ${SENDERS} clients: ${perSecond(inserts, ' tps')}`, {
        ratio: full.perSecond / inserts.perSecond,
        samples: `${num(full.sent)} msgs in ${num(full.seconds)} s; ${num(inserts.samples)} txns`,
      }),
      row(`Parley CPU per delivered 1:1 message (${Object.keys(used.byProcess).length} service processes)`, `${perMessage(used.parley)} (${byProcess})`, `absolute; bench client ${perMessage(used.client)}, PostgreSQL (whole server, shared) ${perMessage(used.postgres)}`, {
        samples: `${num(full.sent)} msgs`,
      }),
      row(`p99 send→receive, 1:1 paced at ${halfRate}/s (half the max rate)`, `p99 ${num(paced.p99)} ms (p50 ${num(paced.p50)} ms)`, `pgbench single-row INSERT -R ${halfRate}, ${SENDERS} clients: p99 ${num(pacedInserts.p99)} ms`, {
        ratio: paced.p99 / pacedInserts.p99,
        samples: `${num(paced.samples)} msgs; ${num(pacedInserts.samples)} txns`,
      }),
    ];
  },
};
