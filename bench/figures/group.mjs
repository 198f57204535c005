// Group delivery: a group of MEMBERS members with DEVICES_PER_MEMBER devices each. The owner's
// primary device sends, SENDS_IN_FLIGHT at a time; each send carries an envelope for every other
// device (the owner's other devices too), and every one of those devices holds Subscribe open and
// acks. Envelopes delivered/s (first send to last ack), beside pgbench inserting as many rows per
// transaction (rows/s), half before the run and half after.
import { cpuLine } from '../support/cpu.mjs';
import { Tally, deliver, signedInAccounts, subscribeAll } from '../support/messaging.mjs';
import { summarize } from '../support/measure.mjs';
import { bracketed, insertRows } from '../support/pgbench.mjs';
import { latencies, num, perSecond, row } from '../support/table.mjs';

const MEMBERS = 100;
const DEVICES_PER_MEMBER = 3;
const SENDS_IN_FLIGHT = 4;
const WARMUP_SECONDS = 2;
const SECONDS = 12;
const PGBENCH_SECONDS = 6;

export default {
  name: 'group',
  about: `envelopes delivered/s to a ${MEMBERS}-member group of ${DEVICES_PER_MEMBER} devices each`,
  services: ['auth', 'messaging', 'edge'],
  async run(ctx) {
    const { stack, clients } = ctx;
    const members = await signedInAccounts(stack, clients, 'group_member', MEMBERS, DEVICES_PER_MEMBER);
    const [owner, ...others] = members;
    const sender = owner[0];
    const { conversation } = await clients.conversations.createGroup({ memberUserIds: others.map(([d]) => d.userId), encryptedInfo: new Uint8Array(32) }, sender.as);
    const recipients = members.flat().filter((d) => d !== sender);
    const lanes = Array.from({ length: SENDS_IN_FLIGHT }, (_, index) => ({ index, clients, conversationId: conversation.id, sender, recipients }));
    const tally = new Tally();
    const subscriptions = await subscribeAll(() => clients, recipients, tally.onEnvelope);
    const db = await ctx.scratchDatabase();
    let run, used, inserts;
    try {
      ctx.note(`${recipients.length} devices subscribed; warming up for ${WARMUP_SECONDS} s`);
      await deliver(lanes, subscriptions, { seconds: WARMUP_SECONDS });
      tally.reset();
      [run, inserts] = await bracketed(db, insertRows(recipients.length), { clients: SENDS_IN_FLIGHT, seconds: PGBENCH_SECONDS }, async () => {
        const cpu = ctx.startCpu();
        const delivered = await deliver(lanes, subscriptions, { seconds: SECONDS });
        used = cpu.stop();
        return { ...delivered, ...summarize(tally.latencies, delivered.seconds) };
      });
      ctx.note(`${run.sent} sends, ${run.envelopes} envelopes, ${num(run.perSecond)}/s, ${latencies(run)}`);
      ctx.note(cpuLine(used, run.envelopes, 'envelope'));
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
    }
    const rows = { ...inserts, perSecond: inserts.perSecond * recipients.length };
    return [
      row(`${MEMBERS}-member × ${DEVICES_PER_MEMBER}-device group: envelopes delivered/s, ${SENDS_IN_FLIGHT} sends in flight`, `${perSecond(run, ' env/s')} (Parley CPU ${num(used.parley / run.envelopes)} ms/env)`, `pgbench ${recipients.length}-row INSERT, ${SENDS_IN_FLIGHT} clients: ${perSecond(rows, ' rows/s')}`, {
        ratio: run.perSecond / rows.perSecond,
        samples: `${num(run.envelopes)} envelopes (${run.sent} sends) in ${num(run.seconds)} s; ${num(inserts.samples)} txns`,
      }),
    ];
  },
};
