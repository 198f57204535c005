import type { Logger } from 'pino';
import { ServingStatus, type HealthState } from '../rpc/health.js';

/** One thing a process can't serve without, e.g. its database or NATS. */
export interface Dependency {
  /** As the log line says it: "PostgreSQL at db:5432 (database parley_auth)". */
  describe: string;
  /** Whether it answers now; a check that takes longer than a period counts as no. */
  reachable(): Promise<boolean>;
}

/**
 * Keeps `health` SERVING while every dependency answers and NOT_SERVING while one doesn't, so a
 * readiness probe takes the pod out of its Service during an outage and puts it back after. Each
 * change is one log line. Checks every `periodMs` until stopped.
 */
export function watchDependencies(health: HealthState, dependencies: Dependency[], log: Logger, periodMs: number) {
  const down = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = async () => {
    const results = await Promise.all(dependencies.map((d) => withinPeriod(d.reachable(), periodMs)));
    dependencies.forEach(({ describe }, i) => {
      if (results[i] && down.delete(describe)) log.info(`${describe} is reachable again`);
      if (!results[i] && !down.has(describe)) {
        down.add(describe);
        log.warn(`cannot reach ${describe}: not serving until it answers`);
      }
    });
    health.set(down.size === 0 ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  };
  const loop = async () => {
    await check();
    if (!stopped) timer = setTimeout(() => void loop(), periodMs);
  };
  return {
    /** Checks once, then every period. */
    start: loop,
    /** One check, as the loop makes it. */
    check,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function withinPeriod(check: Promise<boolean>, periodMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), periodMs)));
  return Promise.race([check.catch(() => false), late]).finally(() => clearTimeout(timer));
}
