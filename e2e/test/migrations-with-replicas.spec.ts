import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newSigningKey } from '@parley/platform';
import { REPO_ROOT, SERVICES, freePort, newFrankingKeyring, newLogSigningKey, serviceProcess, type ServiceName, type ServiceProcess } from '@parley/stack';
import { TEST_NATS_URL, TestIsolation, runServiceUntilExit } from '@parley/testing';

// What a Deployment with several replicas, or a rolling update, does to a fresh database: its
// processes start at once. The migration lock lets them take turns; each migration runs once.

jest.setTimeout(300_000);

const DB_SERVICES = SERVICES.filter((s) => s.database).map((s) => s.name);
const REPLICAS = 5;

const isolation = new TestIsolation();
const mediaDir = mkdtempSync(join(tmpdir(), `parley-media-${isolation.runId}-`));
const started: ServiceProcess[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await isolation.cleanup([TEST_NATS_URL]);
  rmSync(mediaDir, { recursive: true, force: true });
});

/** Everything one process of `service` needs, on ports of its own; the other services are never called. */
async function processEnv(service: ServiceName, databaseUrl: string): Promise<Record<string, string>> {
  const nowhere = 'http://127.0.0.1:1';
  return {
    RPC_PORT: String(await freePort()),
    RPC_HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    DATABASE_CREATE_IF_MISSING: 'true',
    NATS_URL: TEST_NATS_URL,
    EVENT_PREFIX: isolation.eventPrefix,
    AUTH_URL: nowhere,
    ...(service === 'auth' ? { AUTH_SIGNING_KEY: newSigningKey() } : {}),
    ...(service === 'keys' ? { KEYS_LOG_SIGNING_KEY: newLogSigningKey() } : {}),
    ...(service === 'media' ? { MEDIA_FILE_DIR: mediaDir, MEDIA_HTTP_PORT: String(await freePort()) } : {}),
    ...(service === 'messaging' || service === 'moderation' ? newFrankingKeyring() : {}),
  };
}

/** The migrations a service's build holds, in order. */
function migrationsOf(service: ServiceName): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { migrations } = require(join(REPO_ROOT, 'services', service, 'dist/migrations/index.js')) as { migrations: { name: string }[] };
  return migrations.map((m) => m.name);
}

/** What each process's "applied N migrations" lines name, all processes together. */
function appliedBy(processes: ServiceProcess[]): string[] {
  return processes.flatMap((p) =>
    p.output
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; migrations?: string[] })
      .filter((entry) => /^applied \d+ migrations$/.test(entry.msg ?? ''))
      .flatMap((entry) => entry.migrations ?? []),
  );
}

describe.each(DB_SERVICES)('%s', (service) => {
  it(`${REPLICAS} processes starting at once on a fresh database all become healthy, and each migration is applied exactly once`, async () => {
    const database = isolation.database(`${service}_replicas`);
    const url = isolation.databaseUrl(`${service}_replicas`);
    const processes: ServiceProcess[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      const env = await processEnv(service, url);
      processes.push(serviceProcess(service, Number(env.RPC_PORT), Number(env.METRICS_PORT), env, { startTimeoutMs: 120_000 }));
    }
    started.push(...processes);
    // start() resolves when the process answers SERVING to a gRPC health check, and throws if it exits.
    await Promise.all(processes.map((p) => p.start()));

    const expected = migrationsOf(service);
    expect(expected.length).toBeGreaterThan(0);
    expect(appliedBy(processes).sort()).toEqual([...expected].sort());
    const recorded = await isolation.query<{ name: string }>(database, 'select name from mikro_orm_migrations order by id');
    expect(recorded.map((r) => r.name)).toEqual(expected);
  });
});

describe('with DATABASE_MIGRATE_ON_START=false', () => {
  it('a service refuses a schema that is behind in one line, `migrate` brings it up to date once, and then the service starts', async () => {
    const service = 'messaging';
    const database = isolation.database('migrate_step');
    const url = isolation.databaseUrl('migrate_step');
    const env: Record<string, string> = { ...(await processEnv(service, url)), DATABASE_MIGRATE_ON_START: 'false' };
    const expected = migrationsOf(service);

    const refused = await runServiceUntilExit(service, env);
    expect(refused.code).toBe(1);
    expect(refused.lines).toHaveLength(1);
    expect(JSON.parse(refused.lines[0]!)).toMatchObject({
      level: 'fatal',
      msg: expect.stringContaining(`its schema is behind this version by ${expected.length} migrations (${expected.join(', ')})`),
    });

    // The migrate step needs only the database settings.
    const migrateEnv = { DATABASE_URL: url, DATABASE_CREATE_IF_MISSING: 'true', LOG_LEVEL: 'info' };
    const [first, second] = await Promise.all([runServiceUntilExit(service, migrateEnv, 120_000, ['migrate']), runServiceUntilExit(service, migrateEnv, 120_000, ['migrate'])]);
    expect([first.code, second.code]).toEqual([0, 0]);
    const applied = [...first.lines, ...second.lines]
      .map((line) => JSON.parse(line) as { msg: string; migrations?: string[] })
      .flatMap((entry) => (/^applied \d+ migrations$/.test(entry.msg) ? entry.migrations! : []));
    expect(applied).toEqual(expected);
    expect(first.lines.at(-1)).toContain('is migrated');
    const recorded = await isolation.query<{ name: string }>(database, 'select name from mikro_orm_migrations order by id');
    expect(recorded.map((r) => r.name)).toEqual(expected);

    const ready = serviceProcess(service, Number(env.RPC_PORT!), Number(env.METRICS_PORT!), env, { startTimeoutMs: 120_000 });
    started.push(ready);
    await ready.start();
  });

  it('`migrate` with no database settings says what is missing, and a service refuses a command it does not know', async () => {
    const missing = await runServiceUntilExit('auth', {}, 30_000, ['migrate']);
    expect(missing.code).toBe(1);
    expect(missing.lines).toEqual([expect.stringMatching(/^auth migrate: invalid configuration: DATABASE_URL is required/)]);
    const unknown = await runServiceUntilExit('auth', {}, 30_000, ['migrat']);
    expect(unknown.code).toBe(1);
    expect(unknown.lines).toEqual(["auth: unknown command 'migrat'; the only command is 'migrate'"]);
  });
});
