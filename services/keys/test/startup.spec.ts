import { freePort } from '@parley/stack';
import { TEST_NATS_URL, TestIsolation, runServiceUntilExit } from '@parley/testing';

const isolation = new TestIsolation();
afterAll(() => isolation.cleanup([TEST_NATS_URL]));

async function baseEnv(): Promise<Record<string, string>> {
  return {
    // The first run migrates the database, which is logged at info: these tests are about the failure's one line.
    LOG_LEVEL: 'warn',
    RPC_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    DATABASE_URL: isolation.databaseUrl('keys_startup'),
    DATABASE_CREATE_IF_MISSING: 'true',
    NATS_URL: TEST_NATS_URL,
    EVENT_PREFIX: isolation.eventPrefix,
  };
}

it('says in one line that KEYS_LOG_SIGNING_KEY is missing, and how to make one', async () => {
  const { code, lines } = await runServiceUntilExit('keys', await baseEnv());
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('KEYS_LOG_SIGNING_KEY is required');
  expect(lines[0]).toContain('npm run -w @parley/keys generate-log-key');
});

it.each([
  ['too short', Buffer.alloc(32, 1).toString('base64')],
  ['inconsistent halves', Buffer.alloc(64, 1).toString('base64')],
])('refuses a log key that is %s, in one line', async (_what, key) => {
  const { code, lines } = await runServiceUntilExit('keys', { ...(await baseEnv()), KEYS_LOG_SIGNING_KEY: key });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({
    level: 'fatal',
    msg: expect.stringContaining('KEYS_LOG_SIGNING_KEY must be base64 of a 64-byte Ed25519 secret key'),
  });
});
