// The one table the runner prints at the end, and the number formats its cells use.

/** 14,674 or 63.2 or 0.512: thousands separated, three significant digits below 100. */
export function num(n) {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : Number(n.toPrecision(3)).toString();
}

/** A CPU time: two decimals below 100 ms. */
export const ms = (n) => `${n >= 100 ? num(n) : n.toFixed(2)} ms`;

export const perSecond = (m, unit = '/s') => `${num(m.perSecond)}${unit}`;
export const latencies = (m) => `p50 ${num(m.p50)} ms, p99 ${num(m.p99)} ms`;

/**
 * A row of the final table. `ratio` is figure ÷ baseline (for a rate, higher is better; for a
 * latency or memory, lower is); `target`, when the issue sets one, is {text, met}. The runner adds
 * `otherCores`: the CPU other work on the box took while the figure measured.
 */
export const row = (figure, value, baseline, { ratio, target, samples } = {}) => ({ figure, value, baseline, ratio, target, samples });

const COLUMNS = [
  ['figure', (r) => r.figure],
  ['figure value', (r) => r.value],
  ['same-run baseline', (r) => r.baseline],
  ['ratio', (r) => (r.ratio === undefined ? '' : `${Number(r.ratio.toPrecision(2))}x`)],
  ['target', (r) => (r.target ? `${r.target.text} ${r.target.met ? 'met' : 'NOT met'}` : '')],
  ['samples', (r) => r.samples ?? ''],
  ['other work on the box', (r) => (r.otherCores === undefined ? '' : `${r.otherCores.toFixed(2)} cores`)],
];

/** The rows as a Markdown table, columns padded so it reads in a terminal too. */
export function printTable(rows) {
  const cells = rows.map((r) => COLUMNS.map(([, cell]) => cell(r).replaceAll('|', '\\|')));
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(COLUMNS.map(([title]) => title)));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const c of cells) console.log(line(c));
}
