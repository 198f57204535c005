import type { MikroORM } from '@mikro-orm/postgresql';
import type { DescService } from '@bufbuild/protobuf';
import type { Interceptor } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { AuthInternalService } from '@parley/proto';
import { authClientConfigSchema, busConfigSchema, databaseConfigSchema, platformConfigSchema } from '../config/platform-config.js';
import { ConfigError, loadConfig, type ConfigOf, type ConfigSchema } from '../config/config.js';
import { describeDatabase, openDatabase, type DatabaseSpec } from '../db/database.js';
import { SqlPool } from '../db/sql-pool.js';
import { connectNats, describeNats, type NatsConnection } from '../bus/nats.js';
import { ensureEventStream } from '../bus/stream.js';
import { Subjects } from '../bus/subjects.js';
import { Outbox } from '../outbox/outbox.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { IdempotentConsumer, type ConsumerSpec } from '../consumer/idempotent-consumer.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics, sampledGauge, type Metrics } from '../observability/metrics.js';
import { outboxMetrics } from '../outbox/outbox-metrics.js';
import { startOpsServer } from '../observability/ops-server.js';
import { startTracing } from '../observability/tracing.js';
import { HealthState, healthRoutes } from '../rpc/health.js';
import { serverInterceptors } from '../rpc/interceptors.js';
import { ClientAddressProofs } from '../rpc/client-address-proof.js';
import { startRpcServer, type Routes, type RunningServer } from '../rpc/server.js';
import { internalClient } from '../rpc/client.js';
import { createTokenVerifier, type TokenVerifier } from '../auth/access-token.js';
import { followSigningKeyRemovals } from '../auth/signing-key-removals.js';
import { watchDependencies, type Dependency } from './dependency-watch.js';
import { migrateCommand } from './migrate-command.js';

/** How often health asks the database and NATS whether they answer. */
const DEPENDENCY_CHECK_PERIOD_MS = 2000;

type PlatformConfig = ConfigOf<typeof platformConfigSchema>;

/**
 * What the platform hands a service's `init`, to build its deps from. Parts the service did not
 * ask for throw when used.
 */
export interface ServiceContext<C> {
  readonly name: string;
  readonly config: C & PlatformConfig;
  /** The pino logger, named after the service. */
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly health: HealthState;
  readonly orm: MikroORM;
  /** Plain SQL on the same database, for hot paths (see db/sql-pool.ts). */
  readonly sql: SqlPool;
  readonly outbox: Outbox;
  readonly nats: NatsConnection;
  readonly subjects: Subjects;
  /** Signs and checks the client address the edge forwards (CLIENT_ADDRESS_SECRET). */
  readonly clientAddressProofs: ClientAddressProofs;
}

/** What `start` gets beside the deps: the server chain, complete, that the RPC server uses too. */
export interface StartContext {
  readonly interceptors: readonly Interceptor[];
}

/** Something `start` runs until shutdown. */
export interface Closable {
  close(graceMs: number): Promise<void>;
}

/**
 * A service's wiring. `init` builds one typed deps object; routes, consumers, the token verifier
 * and `start` are functions of it and nothing else.
 */
export interface ServiceDefinition<S extends ConfigSchema, D> {
  name: string;
  /** This service's own variables, on top of the platform's. */
  config: S;
  /**
   * The service owns a database: DATABASE_URL is required, and migrations run at start-up (or, with
   * DATABASE_MIGRATE_ON_START=false, must have run: `main.js migrate` runs them and exits).
   */
  database?: DatabaseSpec;
  /** The service publishes or consumes events: NATS_URL and EVENT_PREFIX apply. */
  bus?: boolean;
  /** The proto services it serves over internal gRPC. */
  services: string[];
  /** Builds the deps once config and connections are up; a throw stops start-up. */
  init: (ctx: ServiceContext<ConfigOf<S>>) => Promise<D>;
  /** How access tokens are checked: against auth's JWKS (fetched over RPC), or a verifier made from the deps. */
  tokens: 'remote' | ((deps: D) => TokenVerifier);
  routes: (deps: D) => Routes[];
  /** Services this process passes on to a backend (the edge's), which validates their requests itself. */
  forwards?: DescService[];
  /** Durable consumers, one per subject; they need `database` and `bus`. */
  consumers?: (deps: D) => ConsumerSpec[];
  /** Anything else to run (e.g. the edge's public server), stopped first at shutdown. */
  start?: (deps: D, ctx: StartContext) => Promise<Closable>;
}

/** The whole life of a service process: config, connections, servers, and a clean shutdown. */
export function runService<S extends ConfigSchema, D>(def: ServiceDefinition<S, D>): Promise<void> {
  // Whatever start-up did not foresee still ends in one line, not a stack trace.
  return startService(def).catch((err: unknown) => {
    process.stderr.write(`${def.name} cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

async function startService<S extends ConfigSchema, D>(def: ServiceDefinition<S, D>): Promise<void> {
  const command = process.argv[2];
  if (command === 'migrate' && def.database) return migrateCommand(def.name, def.database);
  if (command !== undefined) {
    process.stderr.write(`${def.name}: unknown command '${command}'; ${def.database ? "the only command is 'migrate'" : 'it takes none'}\n`);
    process.exit(1);
  }
  const schema = {
    ...platformConfigSchema,
    ...(def.database ? databaseConfigSchema : {}),
    ...(def.bus ? busConfigSchema : {}),
    ...(def.tokens === 'remote' ? authClientConfigSchema : {}),
    ...def.config,
  };
  let config: Record<string, unknown>;
  try {
    config = loadConfig(schema);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${def.name}: ${err.message}\n`);
    process.exit(1);
  }
  const cfg = config as ConfigOf<S> & PlatformConfig & Partial<ConfigOf<typeof databaseConfigSchema & typeof busConfigSchema>>;
  const log = createLogger(def.name, cfg.LOG_LEVEL);
  const fatal = (line: string): never => {
    log.fatal(line);
    process.exit(1);
  };
  const metrics = createMetrics(def.name);
  const tracing = startTracing(def.name);
  const health = new HealthState(def.services);

  let relay: OutboxRelay | undefined;
  let orm: MikroORM | undefined;
  let sql: SqlPool | undefined;
  if (def.database) {
    const url = cfg.DATABASE_URL!;
    orm = await openDatabase(def.database, {
      url,
      createIfMissing: cfg.DATABASE_CREATE_IF_MISSING!,
      poolMax: cfg.DATABASE_POOL_MAX!,
      subscribers: [OutboxRelay.commitSubscriber(() => relay)],
      migrations: cfg.DATABASE_MIGRATE_ON_START ? 'apply' : 'require',
      log,
    }).catch((err: Error) => fatal(`cannot use ${describeDatabase(url)}: ${err.message}`));
    sql = new SqlPool(url, cfg.DATABASE_POOL_MAX!);
  }
  let nats: NatsConnection | undefined;
  let subjects: Subjects | undefined;
  if (def.bus) {
    subjects = new Subjects(cfg.EVENT_PREFIX!);
    const url = cfg.NATS_URL!;
    nats = await connectNats(url, def.name, log).catch((err: Error) => fatal(`cannot reach ${describeNats(url)}: ${err.message}`));
    await ensureEventStream(nats, subjects, cfg.EVENT_STREAM_REPLICAS!).catch((err: Error) =>
      fatal(`cannot set up the JetStream stream on ${describeNats(url)} (is JetStream enabled?): ${err.message}`),
    );
  }

  const missing = (what: string) => () => {
    throw new Error(`${def.name} did not declare ${what}`);
  };
  const outbox = subjects ? new Outbox(def.name, subjects, () => relay) : undefined;
  const clientAddressProofs = new ClientAddressProofs({ current: cfg.CLIENT_ADDRESS_SECRET, previous: cfg.CLIENT_ADDRESS_PREVIOUS_SECRET });
  const ctx = {
    name: def.name,
    config: cfg,
    log,
    metrics,
    health,
    clientAddressProofs,
    get orm() {
      return orm ?? missing('a database')();
    },
    get sql() {
      return sql ?? missing('a database')();
    },
    get outbox() {
      return outbox ?? missing('a bus')();
    },
    get nats() {
      return nats ?? missing('a bus')();
    },
    get subjects() {
      return subjects ?? missing('a bus')();
    },
  } as ServiceContext<ConfigOf<S>>;

  const deps = await def.init(ctx).catch((err: Error) => fatal(`${def.name} cannot start: ${err.message}`));
  // The chain ends in token verification, which may need the deps: so it is built after init, once.
  const verifier =
    def.tokens === 'remote' ? remoteVerifier((cfg as unknown as ConfigOf<typeof authClientConfigSchema>).AUTH_URL) : def.tokens(deps);
  const interceptors = serverInterceptors(log, metrics, verifier, def.forwards, clientAddressProofs);
  if (nats && subjects) followSigningKeyRemovals(nats, subjects, verifier, log);

  if (orm && nats) {
    relay = new OutboxRelay(orm, nats, log, metrics);
    relay.start();
    outboxMetrics(metrics, orm);
  }
  const consumers = (def.consumers?.(deps) ?? []).map(
    (spec) =>
      new IdempotentConsumer(spec, {
        service: def.name,
        orm: orm ?? missing('a database')(),
        nc: nats ?? missing('a bus')(),
        subjects: subjects!,
        streamReplicas: cfg.EVENT_STREAM_REPLICAS!,
        maxAttempts: cfg.CONSUMER_MAX_ATTEMPTS!,
        log,
        metrics,
      }),
  );
  for (const c of consumers) await c.start();
  if (consumers.length) {
    sampledGauge(metrics, { name: 'parley_consumer_pending_events', help: 'Consumer lag: events on the stream this consumer has not yet handled', labelNames: ['consumer'] }, () =>
      Promise.all(consumers.map(async (c) => ({ labels: { consumer: c.durable }, value: await c.pending() }))),
    );
  }

  let rpc: RunningServer;
  try {
    rpc = await startRpcServer({
      port: cfg.RPC_PORT,
      host: cfg.RPC_HOST,
      routes: [healthRoutes(health), ...def.routes(deps)],
      interceptors,
    });
  } catch (err) {
    return fatal(`cannot listen for RPC on ${cfg.RPC_HOST} port ${cfg.RPC_PORT}: ${(err as Error).message}`);
  }
  const ops = await startOpsServer(cfg.METRICS_PORT, metrics.registry, health).catch((err: Error) =>
    fatal(`cannot listen for metrics on port ${cfg.METRICS_PORT}: ${err.message}`),
  );
  const extra = def.start
    ? await def.start(deps, { interceptors }).catch((err: Error) => fatal(`${def.name} cannot start: ${err.message}`))
    : undefined;

  const dependencies: Dependency[] = [];
  if (orm) dependencies.push({ describe: describeDatabase(cfg.DATABASE_URL!), reachable: () => orm.isConnected() });
  if (nats) dependencies.push({ describe: describeNats(cfg.NATS_URL!), reachable: () => nats.flush().then(() => true) });
  const watch = watchDependencies(health, dependencies, log, DEPENDENCY_CHECK_PERIOD_MS);
  await watch.start();
  log.info({ rpcPort: rpc.port, metricsPort: ops.port, node: process.version }, `${def.name} ready`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${def.name} shutting down`);
    watch.stop();
    health.shutdown();
    const graceMs = cfg.SHUTDOWN_GRACE_SECONDS * 1000;
    await extra?.close(graceMs);
    await rpc.close(graceMs);
    for (const c of consumers) await c.stop();
    await relay?.stop();
    await nats?.drain().catch(() => undefined);
    await sql?.close();
    await orm?.close();
    await ops.close();
    await tracing.shutdown().catch(() => undefined);
    log.info(`${def.name} stopped`);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** Verifies access tokens against the keys auth publishes over AuthInternalService/GetJwks. */
export function remoteVerifier(authUrl: string): TokenVerifier {
  const auth = internalClient(AuthInternalService, authUrl, { onBehalfOfCaller: false });
  return createTokenVerifier(async () => (await auth.getJwks({}, { timeoutMs: 3000 })).keys.map(({ kid, kty, crv, x }) => ({ kid, kty, crv, x })));
}
