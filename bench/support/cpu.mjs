// Where the CPU went during a measurement, read from /proc: each Parley service process (utime +
// stime of all its threads), this bench client, the whole PostgreSQL and NATS servers (every
// process named postgres or nats-server: shared with whatever else uses them, such as other test
// runs on the box), and the whole box.
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // /proc counts in clock ticks of 1/100 s (getconf CLK_TCK)
const SERVERS = ['postgres', 'nats-server'];

/** [comm, CPU ms so far] of process `pid`, or undefined once it is gone. */
function readStat(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(') ');
  const fields = stat.slice(close + 2).split(' ');
  return [stat.slice(stat.indexOf('(') + 1, close), (Number(fields[11]) + Number(fields[12])) * TICK_MS];
}

/** CPU ms so far of each process whose name is one of `names`: a Map of pid → [name, ms]. */
function serverProcesses(names) {
  const found = new Map();
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    const stat = readStat(entry);
    if (stat && names.includes(stat[0])) found.set(entry, stat);
  }
  return found;
}

/**
 * CPU ms each of `names` used between two readings of serverProcesses: a process that started
 * meanwhile counts whole; one that exited meanwhile is missed, so this can only undercount.
 */
function serverCpu(names, before, after) {
  const used = Object.fromEntries(names.map((n) => [n, 0]));
  for (const [pid, [name, ms]] of after) used[name] += ms - (before.get(pid)?.[1] ?? 0);
  return used;
}

/** The box's busy CPU ms so far, over all cores (everything but idle and iowait). */
function boxBusyMs() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).map(Number);
  return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3] - ticks[4]) * TICK_MS;
}

/**
 * Starts reading CPU for `processes` ({name, pid}[]); `stop()` returns what each used since, in ms:
 * {parley, byProcess, client, postgres, nats, boxBusyCores, otherCores, seconds}. `otherCores` is
 * what the rest of the box used meanwhile, in cores: other work that shared the CPU with the figure.
 */
export function startCpu(processes) {
  const read = () => ({
    at: performance.now(),
    procs: processes.map(({ pid }) => readStat(pid)?.[1] ?? 0),
    client: process.cpuUsage(),
    servers: serverProcesses(SERVERS),
    box: boxBusyMs(),
  });
  const before = read();
  return {
    stop() {
      const after = read();
      const byProcess = {};
      processes.forEach(({ name }, i) => (byProcess[name] = (byProcess[name] ?? 0) + after.procs[i] - before.procs[i]));
      const seconds = (after.at - before.at) / 1000;
      const client = process.cpuUsage(before.client);
      const servers = serverCpu(SERVERS, before.servers, after.servers);
      const used = {
        parley: Object.values(byProcess).reduce((a, b) => a + b, 0),
        byProcess,
        client: (client.user + client.system) / 1000,
        postgres: servers.postgres,
        nats: servers['nats-server'],
        boxBusyCores: (after.box - before.box) / (seconds * 1000),
        seconds,
      };
      const ours = used.parley + used.client + used.postgres + used.nats;
      return { ...used, otherCores: Math.max(0, used.boxBusyCores - ours / (seconds * 1000)) };
    },
  };
}

/** One line: CPU ms per `unit` (`units` of them done) of Parley (and each of its processes), this client, PostgreSQL and NATS; how busy the box was. */
export function cpuLine(used, units, unit) {
  const per = (ms) => (ms / units).toFixed(2);
  const processes = Object.entries(used.byProcess)
    .map(([name, ms]) => `${name} ${per(ms)}`)
    .join(', ');
  return (
    `CPU ms per ${unit}: Parley ${per(used.parley)} (${processes}); bench client ${per(used.client)}; ` +
    `PostgreSQL (whole server, shared) ${per(used.postgres)}; NATS (whole server, shared) ${per(used.nats)}; ` +
    `box busy ${used.boxBusyCores.toFixed(2)} cores over ${used.seconds.toFixed(1)} s, ${used.otherCores.toFixed(2)} of them other work`
  );
}
