// What a figure gets from the runner: the stack, clients of its edge, CPU readings of every Parley
// process running, replicas that are stopped after the figure, the scratch database for pgbench,
// and a progress line.
import { edgeClients } from './clients.mjs';
import { startCpu } from './cpu.mjs';
import { scratchDatabase } from './pgbench.mjs';
import { profileClock } from './profile.mjs';

export class BenchContext {
  #replicas = [];

  /** `shared` is what the figures of a run share: {measuredWindows: [], scratchDatabase?}. */
  constructor(stack, shared, figureName, startedAt) {
    this.stack = stack;
    this.shared = shared;
    this.clients = edgeClients(stack.edgeUrl);
    this.figureName = figureName;
    this.startedAt = startedAt;
  }

  /** Prints a progress line, with the seconds since the run started. */
  note(line) {
    const seconds = ((performance.now() - this.startedAt) / 1000).toFixed(0).padStart(4);
    console.log(`[${seconds} s] ${this.figureName}: ${line}`);
  }

  /** Every Parley service process running now, {name, pid}; replicas are named like messaging#2. */
  processes() {
    const first = Object.values(this.stack.services).map((p) => ({ name: p.name, pid: p.pid }));
    return [...first, ...this.#replicas.map(({ name, process }) => ({ name, pid: process.pid }))];
  }

  /**
   * Starts reading the CPU of every Parley process running now (see startCpu). The time from here
   * to `stop()` is a window the figure measured in: --profile reports the samples within them, and
   * the table how much other work ran on the box meanwhile.
   */
  startCpu() {
    const reading = startCpu(this.processes());
    const from = profileClock();
    return {
      stop: () => {
        const used = reading.stop();
        this.shared.measuredWindows.push({ figure: this.figureName, from, to: profileClock(), otherCores: used.otherCores });
        return used;
      },
    };
  }

  /**
   * Starts another process of service `name`, with `env` over the first one's settings (the
   * launcher copies the first process's env when it starts a replica, so it is changed for that
   * moment and put back). Returns {process, url}; the runner stops it after the figure.
   */
  async startReplica(name, env = {}) {
    const settings = this.stack.services[name].env;
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, settings[k]]));
    Object.assign(settings, env);
    try {
      const replica = await this.stack.startReplica(name);
      this.#replicas.push({ name: `${name}#${this.#replicas.filter((r) => r.service === name).length + 2}`, service: name, process: replica.process });
      return replica;
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete settings[k];
        else settings[k] = v;
      }
    }
  }

  async stopReplicas() {
    await Promise.all(this.#replicas.map(({ process }) => process.stop()));
    this.#replicas = [];
  }

  /** The run's scratch database for pgbench, made on first use. */
  scratchDatabase() {
    this.shared.scratchDatabase ??= scratchDatabase(this.stack);
    return this.shared.scratchDatabase;
  }
}
