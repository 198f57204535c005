// What every bench script needs: run an operation with N in flight, summarise its latencies, and
// print a row beside its baseline.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Ops/s and latency percentiles (ms) of `latencies` collected over `seconds`. */
export function summarize(latencies, seconds) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { perSecond: sorted.length / seconds, p50: pct(50), p99: pct(99) };
}

/** Runs `op(i)` for i = 0 … total-1 with `concurrency` in flight. */
export async function measure(total, concurrency, op) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return summarize(latencies, (performance.now() - started) / 1000);
}

/** The line above a bench's figures: the cores and the Node it ran on, then what the run held fixed. */
export function header(setup) {
  console.log(`\n${availableParallelism()} cores; Node ${process.version}; ${setup}\n`);
}

/** One line of figures, with the ratio to `baseline` when there is one. */
export function row(name, m, baseline, width = 58) {
  const ratio = baseline ? `${(m.perSecond / baseline.perSecond).toPrecision(2)}x` : '';
  console.log(
    `${name.padEnd(width)} ${m.perSecond.toFixed(1).padStart(9)}/s  p50 ${m.p50.toFixed(1).padStart(7)} ms  p99 ${m.p99.toFixed(1).padStart(7)} ms  ${ratio}`,
  );
}

/** One line of latencies, with the ratio of each percentile to `baseline`'s. */
export function latencyRow(name, m, baseline, width = 58) {
  const ratios = baseline ? `p50 ${(m.p50 / baseline.p50).toPrecision(2)}x  p99 ${(m.p99 / baseline.p99).toPrecision(2)}x` : '';
  console.log(`${name.padEnd(width)} ${m.perSecond.toFixed(1).padStart(9)}/s  p50 ${m.p50.toFixed(1).padStart(7)} ms  p99 ${m.p99.toFixed(1).padStart(7)} ms  ${ratios}`);
}

/** CPU time (user + system, ms) a process has used so far, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
