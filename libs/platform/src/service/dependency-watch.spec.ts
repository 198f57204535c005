import pino from 'pino';
import { HealthState, ServingStatus } from '../rpc/health.js';
import { watchDependencies, type Dependency } from './dependency-watch.js';

/** A logger that keeps what it was told, as "level: message". */
function recordingLogger() {
  const lines: string[] = [];
  const write = (line: string) => {
    const { level, msg } = JSON.parse(line) as { level: number; msg: string };
    lines.push(`${pino.levels.labels[level]}: ${msg}`);
  };
  const log = pino({ level: 'info' }, { write });
  return { log, lines };
}

function dependency(describe: string, answers: () => Promise<boolean>): Dependency {
  return { describe, reachable: answers };
}

describe('watchDependencies', () => {
  it('is SERVING while every dependency answers, NOT_SERVING while one does not, and logs each change once', async () => {
    const health = new HealthState([]);
    const { log, lines } = recordingLogger();
    let database = true;
    const watch = watchDependencies(health, [dependency('the database', async () => database), dependency('NATS', async () => true)], log, 1000);

    await watch.check();
    expect(health.status).toBe(ServingStatus.SERVING);
    database = false;
    await watch.check();
    await watch.check();
    expect(health.status).toBe(ServingStatus.NOT_SERVING);
    database = true;
    await watch.check();
    expect(health.status).toBe(ServingStatus.SERVING);
    expect(lines).toEqual(['warn: cannot reach the database: not serving until it answers', 'info: the database is reachable again']);
  });

  it('counts a check that throws, or that does not answer within the period, as unreachable', async () => {
    const health = new HealthState([]);
    const { log } = recordingLogger();
    const throwing = watchDependencies(health, [dependency('NATS', () => Promise.reject(new Error('closed')))], log, 1000);
    await throwing.check();
    expect(health.status).toBe(ServingStatus.NOT_SERVING);

    const hanging = watchDependencies(health, [dependency('NATS', () => new Promise<boolean>(() => undefined))], log, 10);
    health.set(ServingStatus.SERVING);
    await hanging.check();
    expect(health.status).toBe(ServingStatus.NOT_SERVING);
  });

  it('does not bring a process that is shutting down back to SERVING', async () => {
    const health = new HealthState([]);
    const { log } = recordingLogger();
    const watch = watchDependencies(health, [dependency('the database', async () => true)], log, 1000);
    health.shutdown();
    await watch.check();
    expect(health.status).toBe(ServingStatus.NOT_SERVING);
  });
});
