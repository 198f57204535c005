// Running an operation with N in flight, and summarising latencies.

/** Rate over `seconds`, sample count and latency percentiles (ms) of `latencies`. */
export function summarize(latencies, seconds) {
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { perSecond: sorted.length / seconds, samples: sorted.length, p50: pct(50), p99: pct(99) };
}

/**
 * Runs `op(i)` for i = 0, 1, … with `concurrency` in flight, until `total` ran or `seconds` passed.
 * The result keeps its `latencies` and `seconds`, so that rounds can be added up (`combine`).
 */
export async function measure(concurrency, op, { total = Infinity, seconds = Infinity }) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && performance.now() < deadline) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { ...summarize(latencies, elapsed), latencies, seconds: elapsed };
}

/** Several rounds of `measure` as one. */
export function combine(rounds) {
  return summarize(
    rounds.flatMap((r) => r.latencies),
    rounds.reduce((s, r) => s + r.seconds, 0),
  );
}

/**
 * Measures `figure` and its `baseline` (each a function of a round's share of `options`, see
 * measure) in alternating rounds, so that both see the same load from other work on the box.
 * Returns [figure, baseline], each combined over its rounds.
 */
export async function alternately(rounds, figure, baseline, { total = Infinity, seconds = Infinity }) {
  const share = { total: total / rounds, seconds: seconds / rounds };
  const figures = [];
  const baselines = [];
  for (let round = 0; round < rounds; round++) {
    baselines.push(await baseline(share));
    figures.push(await figure(share));
  }
  return [combine(figures), combine(baselines)];
}

/** Runs `op(i)` for i = 0 … n-1 with `concurrency` in flight; the results in order. */
export async function mapConcurrently(n, concurrency, op) {
  const results = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await op(i);
      }
    }),
  );
  return results;
}
