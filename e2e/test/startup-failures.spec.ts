import net from 'node:net';
import { newSigningKey } from '@parley/platform';
import { freePort, newFrankingKeyring } from '@parley/stack';
import { TEST_NATS_URL, TestIsolation, runServiceUntilExit } from '@parley/testing';

const isolation = new TestIsolation();
let runs = 0;
afterAll(() => isolation.cleanup([TEST_NATS_URL]));

async function baseEnv(): Promise<Record<string, string>> {
  return {
    // Each run migrates a fresh database, which is logged at info: these tests are about the failure's one line.
    LOG_LEVEL: 'warn',
    RPC_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    DATABASE_URL: isolation.databaseUrl(`startup_${++runs}`),
    DATABASE_CREATE_IF_MISSING: 'true',
    NATS_URL: TEST_NATS_URL,
    EVENT_PREFIX: isolation.eventPrefix,
    MESSAGING_URL: 'http://127.0.0.1:1',
    KEYS_URL: 'http://127.0.0.1:1',
    MEDIA_URL: 'http://127.0.0.1:1',
    MODERATION_URL: 'http://127.0.0.1:1',
    MEDIA_HTTP_URL: 'http://127.0.0.1:1',
    AUTH_SIGNING_KEY: newSigningKey(),
    ...newFrankingKeyring(),
  };
}

it('says in one line that it cannot reach its database, and exits non-zero', async () => {
  const port = await freePort();
  const { code, lines } = await runServiceUntilExit('auth', { ...(await baseEnv()), DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/parley_auth` });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'fatal', msg: expect.stringContaining(`cannot use PostgreSQL at 127.0.0.1:${port} (database parley_auth)`) });
});

it('says in one line that it cannot reach NATS, and exits non-zero', async () => {
  const port = await freePort();
  const { code, lines } = await runServiceUntilExit('messaging', { ...(await baseEnv()), NATS_URL: `nats://127.0.0.1:${port}` });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'fatal', msg: expect.stringContaining(`cannot reach NATS at 127.0.0.1:${port}`) });
});

it('lists every invalid variable in one line, and exits non-zero', async () => {
  const { code, lines } = await runServiceUntilExit('auth', { ...(await baseEnv()), RPC_PORT: 'eighty', DATABASE_URL: 'mysql://x/y', AUTH_SIGNING_KEY: '' });
  expect(code).toBe(1);
  expect(lines).toEqual([
    "auth: invalid configuration: RPC_PORT must be an integer from 0 to 65535, got 'eighty'; DATABASE_URL must be a URL with scheme postgres or postgresql, got 'mysql://x/y'; AUTH_SIGNING_KEY is required (an Ed25519 private JWK as JSON; make one with `npm run -w @parley/auth generate-signing-key`)",
  ]);
});

it('refuses a signing key that is not an Ed25519 private JWK', async () => {
  const { code, lines } = await runServiceUntilExit('auth', { ...(await baseEnv()), AUTH_SIGNING_KEY: '{"kty":"RSA"}' });
  expect(code).toBe(1);
  expect(lines.at(-1)).toContain('AUTH_SIGNING_KEY must be an Ed25519 private JWK');
});

it('says in one line what is wrong with the franking keyring, and exits non-zero', async () => {
  const { FRANKING_KEYS } = newFrankingKeyring();
  const { code, lines } = await runServiceUntilExit('messaging', { ...(await baseEnv()), LOG_LEVEL: 'warn', FRANKING_KEYS, FRANKING_ACTIVE_KEY_ID: 'k2' });
  expect(code).toBe(1);
  // It reaches its database and NATS first (lines before it, if any, are theirs); the keyring's problem is the last line.
  expect(JSON.parse(lines.at(-1)!)).toMatchObject({
    level: 'fatal',
    msg: expect.stringContaining(`FRANKING_KEYS / FRANKING_ACTIVE_KEY_ID: the active franking key id "k2" is not among the keys (${FRANKING_KEYS.split(':')[0]})`),
  });
});

it('says in one line that the edge cannot listen on its public port', async () => {
  const taken = net.createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => taken.listen(port, '0.0.0.0', resolve));
  try {
    const { code, lines } = await runServiceUntilExit('edge', { ...(await baseEnv()), HTTP_PORT: String(port) });
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'fatal', msg: `edge cannot start: listen EADDRINUSE: address already in use 0.0.0.0:${port}` });
  } finally {
    taken.close();
  }
});
