// Runs the benchmark figures and prints one table: each figure beside a baseline measured in the
// same run on the same box, and their ratio. See bench/README.md.
//   npm run bench                         every figure of the table (builds first)
//   npm run bench -- oneToOne offline     only those figures
//   npm run bench -- --list               the figures
//   npm run bench -- --profile oneToOne   also CPU-profiles every service process and prints its top functions
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestStack } from '@parley/testing';
import { FIGURES } from './figures/index.mjs';
import { clientTransport } from './support/clients.mjs';
import { BenchContext } from './support/context.mjs';
import { printProfiles } from './support/profile.mjs';
import { printTable, row } from './support/table.mjs';

/** Settings every stack of the run gets; figures add their own. */
const BASE_ENV = {
  // Accounts are made fast (bcrypt at its lowest cost), and tokens outlive the run, so no stream
  // ends with its token.
  auth: { BCRYPT_COST: '4', ACCESS_TOKEN_TTL_SECONDS: '3600' },
  // A bench is a few clients generating load: the abuse limits are lifted so they measure the path, not the limits.
  messaging: {
    SENDS_PER_SENDER: '1000000',
    SENDS_PER_SENDER_PER_MINUTE: '6000000',
    QUEUE_MAX_DELIVERIES: '10000000',
    GROUPS_CREATED_PER_CALLER: '1000000',
    MEMBER_ADDS_PER_CALLER: '1000000',
  },
  keys: { UPLOADS_PER_CALLER: '1000000', PREKEY_CLAIMS_PER_REQUESTER: '1000000' },
  // Lets a figure read the edge's memory as live data: a full GC on SIGUSR2.
  edge: { NODE_OPTIONS: `--expose-gc --require ${fileURLToPath(new URL('./support/gc-on-signal.cjs', import.meta.url))}` },
};

function parseArgs(argv) {
  const names = argv.filter((a) => !a.startsWith('--'));
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  for (const flag of flags) if (!['--profile', '--list'].includes(flag)) throw new Error(`unknown option ${flag}; try --list`);
  const figures = names.length > 0 ? names.map(figureNamed) : FIGURES;
  return { figures, profile: flags.has('--profile'), list: flags.has('--list') };
}

function figureNamed(name) {
  const figure = FIGURES.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!figure) throw new Error(`no figure named ${name}: ${FIGURES.map((f) => f.name).join(', ')}`);
  return figure;
}

/** Each service's env: every layer's variables, NODE_OPTIONS joined rather than replaced. */
function mergeEnv(...layers) {
  const merged = {};
  for (const layer of layers) {
    for (const [service, vars] of Object.entries(layer ?? {})) {
      const into = (merged[service] ??= {});
      for (const [k, v] of Object.entries(vars)) into[k] = k === 'NODE_OPTIONS' && into[k] ? `${into[k]} ${v}` : v;
    }
  }
  return merged;
}

/** The figures grouped by the stack they run on: all but those that need one of their own share one. */
function stackGroups(figures) {
  const shared = figures.filter((f) => !f.ownStack);
  return [...(shared.length > 0 ? [shared] : []), ...figures.filter((f) => f.ownStack).map((f) => [f])];
}

function commit() {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return `${sha}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
const { figures, profile, list } = args;
if (list) {
  for (const f of FIGURES) console.log(`${f.name.padEnd(12)} ${f.about}`);
  process.exit(0);
}

const startedAt = performance.now();
const revision = commit();
const profileDir = profile ? mkdtempSync(join(tmpdir(), 'parley-bench-profile-')) : undefined;
console.log(
  [
    `Parley bench, ${new Date().toISOString()}, commit ${revision}`,
    `${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the start; Node ${process.version}`,
    `client transport: ${clientTransport.label}`,
    `figures: ${figures.map((f) => f.name).join(', ')}${profileDir ? `; CPU profiles in ${profileDir}` : ''}`,
  ].join('\n'),
);

const rows = [];
const measuredWindows = [];
for (const group of stackGroups(figures)) {
  const services = [...new Set(group.flatMap((f) => f.services))];
  const profileEnv = profileDir ? Object.fromEntries(services.map((s) => [s, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(profileDir, s)}` }])) : {};
  const stack = await startTestStack({ services, env: mergeEnv(BASE_ENV, ...group.map((f) => f.env), profileEnv) });
  const shared = { measuredWindows };
  try {
    for (const figure of group) {
      const ctx = new BenchContext(stack, shared, figure.name, startedAt);
      ctx.note(`starting (${figure.about})`);
      try {
        const figureRows = await figure.run(ctx);
        const windows = measuredWindows.filter((w) => w.figure === figure.name);
        const seconds = windows.reduce((s, w) => s + (w.to - w.from), 0);
        const otherCores = seconds > 0 ? windows.reduce((s, w) => s + w.otherCores * (w.to - w.from), 0) / seconds : undefined;
        rows.push(...figureRows.map((r) => ({ ...r, otherCores })));
      } catch (err) {
        process.exitCode = 1;
        console.error(err);
        rows.push(row(figure.name, 'FAILED', String(err.message ?? err).split('\n')[0]));
      } finally {
        await ctx.stopReplicas();
      }
      ctx.note('done');
    }
  } finally {
    await stack.cleanup();
  }
}

console.log(`\nParley bench at ${revision}: ${availableParallelism()} cores, Node ${process.version}, ${clientTransport.label}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; ${((performance.now() - startedAt) / 1000).toFixed(0)} s in all\n`);
printTable(rows);
if (profileDir) printProfiles(profileDir, measuredWindows);
