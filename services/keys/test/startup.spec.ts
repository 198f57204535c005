import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, freePort } from '@parley/stack';
import { TEST_NATS_URL, TestIsolation } from '@parley/testing';

jest.setTimeout(60_000);

const isolation = new TestIsolation();
afterAll(() => isolation.cleanup([TEST_NATS_URL]));

/** Runs keys until it exits; its exit code and output lines. */
function runKeys(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'services/keys/dist/main.js')], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter(Boolean) });
    });
  });
}

async function baseEnv(): Promise<Record<string, string>> {
  return {
    RPC_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    DATABASE_URL: isolation.databaseUrl('keys_startup'),
    DATABASE_CREATE_IF_MISSING: 'true',
    NATS_URL: TEST_NATS_URL,
    EVENT_PREFIX: isolation.eventPrefix,
  };
}

it('says in one line that KEYS_LOG_SIGNING_KEY is missing, and how to make one', async () => {
  const { code, lines } = await runKeys(await baseEnv());
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('KEYS_LOG_SIGNING_KEY is required');
  expect(lines[0]).toContain('npm run -w @parley/keys generate-log-key');
});

it.each([
  ['too short', Buffer.alloc(32, 1).toString('base64')],
  ['inconsistent halves', Buffer.alloc(64, 1).toString('base64')],
])('refuses a log key that is %s, in one line', async (_what, key) => {
  const { code, lines } = await runKeys({ ...(await baseEnv()), KEYS_LOG_SIGNING_KEY: key });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({
    level: 'fatal',
    msg: expect.stringContaining('KEYS_LOG_SIGNING_KEY must be base64 of a 64-byte Ed25519 secret key'),
  });
});
