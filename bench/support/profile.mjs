// Reads the .cpuprofile files that `--cpu-prof` wrote for each service process and prints, for each
// figure, where each process spent its CPU while that figure was measuring: the packages and the
// functions with the most self time. A profile's timestamps are microseconds of CLOCK_MONOTONIC,
// the clock of process.hrtime, so the samples are cut to the windows the figures measured in.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const TOP_PACKAGES = 6;
const TOP_FUNCTIONS = 12;

/** Now, on the clock profiles are stamped with (µs). */
export const profileClock = () => Number(process.hrtime.bigint() / 1000n);

/** Which package a script belongs to: an npm package, a Parley lib or service, Node itself, or V8's own. */
function packageOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (built-in)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const own = /\/(libs|services)\/([^/]+)\//.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

/** Self time (ms) per function and per package of the samples of `profile` within `windows` ([from, to] µs). */
function selfTimes(profile, windows) {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map();
  const byPackage = new Map();
  let busy = 0;
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i];
    if (!windows.some(([from, to]) => at >= from && at < to)) continue;
    const frame = frames.get(samples[i]);
    if (frame.functionName === '(idle)') continue;
    const ms = (timeDeltas[i + 1] ?? 0) / 1000;
    busy += ms;
    const where = frame.url ? ` ${frame.url.replace(/^.*\/(node_modules|libs|services)\//, '')}:${frame.lineNumber + 1}` : '';
    const fn = `${frame.functionName || '(anonymous)'}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const pkg = packageOf(frame.url, frame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  }
  return { byFunction, byPackage, busy };
}

function printTop(title, times, busy, n) {
  console.log(`  ${title}`);
  for (const [name, ms] of [...times].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`    ${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${name}`);
  }
}

/**
 * Prints, per figure, each profiled process's CPU while the figure measured: the profiles are under
 * `dir` (a folder per service), `windows` are {figure, from, to} in profileClock µs.
 */
export function printProfiles(dir, windows) {
  const profiles = readdirSync(dir)
    .sort()
    .flatMap((service) =>
      readdirSync(join(dir, service))
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => ({ service, pid: f.split('.')[3], profile: JSON.parse(readFileSync(join(dir, service, f), 'utf8')) })),
    );
  console.log(`\nCPU profiles, by self time while each figure measured; the .cpuprofile files (whole process lifetimes) are in ${dir}`);
  for (const figure of [...new Set(windows.map((w) => w.figure))]) {
    const spans = windows.filter((w) => w.figure === figure).map((w) => [w.from, w.to]);
    const seconds = spans.reduce((s, [from, to]) => s + (to - from), 0) / 1e6;
    console.log(`\n== ${figure}: ${seconds.toFixed(1)} s measured`);
    for (const { service, pid, profile } of profiles) {
      const { byFunction, byPackage, busy } = selfTimes(profile, spans);
      if (busy < seconds * 10) continue; // under 1% of a core: idle for this figure
      console.log(`\n${service} (pid ${pid}): ${(busy / 1000).toFixed(1)} s of CPU`);
      printTop('by package', byPackage, busy, TOP_PACKAGES);
      printTop('by function', byFunction, busy, TOP_FUNCTIONS);
    }
  }
}
