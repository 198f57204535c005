import { TestIsolation } from '../src/isolation.js';
import { ManualClock } from '../src/manual-clock.js';
import { TEST_NATS_URL } from '../src/run-id.js';
import { eventually, metricValue } from '../src/test-stack.js';

describe('metricValue', () => {
  const exposition = [
    '# HELP parley_events_consumed_total Events',
    'parley_events_consumed_total{consumer="a",outcome="applied",service="m"} 3',
    'parley_events_consumed_total{consumer="b",outcome="applied",service="m"} 2',
    'parley_events_consumed_total{consumer="a",outcome="duplicate",service="m"} 1',
    'parley_events_consumed_total_other{outcome="applied"} 100',
  ].join('\n');

  it('sums the samples whose labels match', () => {
    expect(metricValue(exposition, 'parley_events_consumed_total', { outcome: 'applied' })).toBe(5);
    expect(metricValue(exposition, 'parley_events_consumed_total', { consumer: 'a' })).toBe(4);
    expect(metricValue(exposition, 'parley_events_consumed_total', { outcome: 'dead_lettered' })).toBe(0);
  });
});

describe('eventually', () => {
  it('returns the first value that satisfies the condition', async () => {
    let n = 0;
    await expect(eventually(async () => ++n, (v) => v === 3)).resolves.toBe(3);
  });

  it('fails with the last value seen', async () => {
    await expect(eventually(async () => 'stuck', (v) => v === 'done', 300)).rejects.toThrow(/last value: "stuck"/);
  });
});

describe('ManualClock', () => {
  it('runs each timer that falls due at its own moment, in order, and never one cancelled', () => {
    const clock = new ManualClock(1000);
    const ran: [string, number][] = [];
    clock.schedule(300, () => ran.push(['b', clock.now()]));
    clock.schedule(100, () => {
      ran.push(['a', clock.now()]);
      // Scheduled while time moves: due within the same advance, so it runs too.
      clock.schedule(50, () => ran.push(['a2', clock.now()]));
    });
    const cancel = clock.schedule(200, () => ran.push(['cancelled', clock.now()]));
    clock.schedule(300, () => ran.push(['c', clock.now()]));
    cancel();
    expect(clock.pending()).toEqual([100, 300, 300]);
    clock.advance(299);
    expect(ran).toEqual([
      ['a', 1100],
      ['a2', 1150],
    ]);
    expect(clock.now()).toBe(1299);
    clock.advance(1);
    expect(ran.slice(2)).toEqual([
      ['b', 1300],
      ['c', 1300],
    ]);
    expect(clock.pending()).toEqual([]);
  });
});

describe('TestIsolation', () => {
  it('gives each run its own names and drops its databases on cleanup', async () => {
    const a = new TestIsolation();
    const b = new TestIsolation();
    expect(a.eventPrefix).not.toBe(b.eventPrefix);
    expect(a.subjects.stream).not.toBe(b.subjects.stream);
    const name = a.database('probe');
    await a.query('postgres', `create database "${name}"`);
    const exists = () => a.query('postgres', 'select 1 from pg_database where datname = $1', [name]);
    expect(await exists()).toHaveLength(1);
    await a.cleanup([TEST_NATS_URL]);
    expect(await exists()).toHaveLength(0);
  });
});
