import type { MikroORM } from '@parley/platform';
import { ManualClock } from '@parley/testing';
import { pino } from 'pino';
import { ExpirySweeper } from './expiry-sweeper.js';

/** Stands in for the database: answers each delete with the next count, or throws it. The SQL itself is tested against PostgreSQL in test/. */
function fakeOrm(answers: (number | Error)[]) {
  const tables: string[] = [];
  const params: unknown[][] = [];
  const orm = {
    em: {
      fork: () => ({
        async execute(sql: string, values: unknown[]) {
          tables.push(/delete from (\w+)/.exec(sql)![1]!);
          params.push(values);
          const next = answers.shift() ?? 0;
          if (next instanceof Error) throw next;
          return [{ deleted: next }];
        },
      }),
    },
  } as unknown as MikroORM;
  return { orm, tables, params };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const log = pino({ level: 'silent' });
const settings = { intervalSeconds: 60, retractWindowSeconds: 3600 };

describe('ExpirySweeper', () => {
  it('sweeps once per interval on its clock, queue rows first, and stops for good', async () => {
    const clock = new ManualClock();
    const { orm, tables } = fakeOrm([3, 1]);
    const sweeper = new ExpirySweeper(orm, settings, log, clock);
    sweeper.start();
    expect(clock.pending()).toEqual([60_000]);
    clock.advance(59_999);
    await settle();
    expect(tables).toEqual([]);
    clock.advance(1);
    await settle();
    expect(tables).toEqual(['queued_delivery', 'message', 'message']);
    // The next interval is counted from the end of this sweep.
    expect(clock.pending()).toEqual([60_000]);
    await sweeper.stop();
    expect(clock.pending()).toEqual([]);
  });

  it('deletes in batches until a batch comes back short', async () => {
    const { orm, tables } = fakeOrm([5000, 5000, 12, 0]);
    const sweeper = new ExpirySweeper(orm, settings, log, new ManualClock());
    await expect(sweeper.sweep()).resolves.toEqual({ deliveries: 10_012, messages: 0, settled: 0 });
    expect(tables).toEqual(['queued_delivery', 'queued_delivery', 'queued_delivery', 'message', 'message']);
  });

  it("deletes settled messages sent before the retract window, as the clock tells it", async () => {
    const clock = new ManualClock();
    clock.advance(10 * 3600_000);
    const { orm, tables, params } = fakeOrm([0, 0, 7]);
    const sweeper = new ExpirySweeper(orm, settings, log, clock);
    await expect(sweeper.sweep()).resolves.toEqual({ deliveries: 0, messages: 0, settled: 7 });
    expect(tables).toEqual(['queued_delivery', 'message', 'message']);
    expect(params[2]).toEqual([new Date(clock.now() - 3600_000)]);
  });

  it('tries again at the next interval after a sweep failed', async () => {
    const clock = new ManualClock();
    const { orm, tables } = fakeOrm([new Error('database restarting'), 0, 0]);
    const sweeper = new ExpirySweeper(orm, settings, log, clock);
    sweeper.start();
    clock.advance(60_000);
    await settle();
    expect(tables).toEqual(['queued_delivery']);
    expect(clock.pending()).toEqual([60_000]);
    clock.advance(60_000);
    await settle();
    expect(tables).toEqual(['queued_delivery', 'queued_delivery', 'message', 'message']);
    await sweeper.stop();
  });
});
