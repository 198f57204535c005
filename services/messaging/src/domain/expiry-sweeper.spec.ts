import type { MikroORM } from '@parley/platform';
import { ManualClock } from '@parley/testing';
import { pino } from 'pino';
import { ExpirySweeper } from './expiry-sweeper.js';

/** Stands in for the database: answers each delete with the next count, or throws it. The SQL itself is tested against PostgreSQL in test/. */
function fakeOrm(answers: (number | Error)[]) {
  const tables: string[] = [];
  const orm = {
    em: {
      fork: () => ({
        async execute(sql: string) {
          tables.push(/delete from (\w+)/.exec(sql)![1]!);
          const next = answers.shift() ?? 0;
          if (next instanceof Error) throw next;
          return [{ deleted: next }];
        },
      }),
    },
  } as unknown as MikroORM;
  return { orm, tables };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const log = pino({ level: 'silent' });

describe('ExpirySweeper', () => {
  it('sweeps once per interval on its clock, queue rows first, and stops for good', async () => {
    const clock = new ManualClock();
    const { orm, tables } = fakeOrm([3, 1]);
    const sweeper = new ExpirySweeper(orm, 60, log, clock);
    sweeper.start();
    expect(clock.pending()).toEqual([60_000]);
    clock.advance(59_999);
    await settle();
    expect(tables).toEqual([]);
    clock.advance(1);
    await settle();
    expect(tables).toEqual(['queued_delivery', 'message']);
    // The next interval is counted from the end of this sweep.
    expect(clock.pending()).toEqual([60_000]);
    await sweeper.stop();
    expect(clock.pending()).toEqual([]);
  });

  it('deletes in batches until a batch comes back short', async () => {
    const { orm, tables } = fakeOrm([5000, 5000, 12, 0]);
    const sweeper = new ExpirySweeper(orm, 60, log, new ManualClock());
    await expect(sweeper.sweep()).resolves.toEqual({ deliveries: 10_012, messages: 0 });
    expect(tables).toEqual(['queued_delivery', 'queued_delivery', 'queued_delivery', 'message']);
  });

  it('tries again at the next interval after a sweep failed', async () => {
    const clock = new ManualClock();
    const { orm, tables } = fakeOrm([new Error('database restarting'), 0, 0]);
    const sweeper = new ExpirySweeper(orm, 60, log, clock);
    sweeper.start();
    clock.advance(60_000);
    await settle();
    expect(tables).toEqual(['queued_delivery']);
    expect(clock.pending()).toEqual([60_000]);
    clock.advance(60_000);
    await settle();
    expect(tables).toEqual(['queued_delivery', 'queued_delivery', 'message']);
    await sweeper.stop();
  });
});
