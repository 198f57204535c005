import { env } from './config.js';

/** The variables every service reads; a service adds its own to these. */
export const platformConfigSchema = {
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { default: 'info' }),
  RPC_PORT: env.port({ default: 50051 }),
  /** The address internal RPC listens on: every interface by default; the dev stack and tests use 127.0.0.1. */
  RPC_HOST: env.ip({ default: '0.0.0.0' }),
  METRICS_PORT: env.port({ default: 9090 }),
  SHUTDOWN_GRACE_SECONDS: env.int({ min: 0, max: 300, default: 10 }),
  /**
   * Shared by the edge and every service: the edge signs the client address it forwards with it,
   * services accept the address only with a valid signature. Unset, addresses are never trusted.
   */
  CLIENT_ADDRESS_SECRET: env.string({ default: '', minLength: 32, describe: 'a secret of at least 32 characters' }),
  /** The secret being rotated out: still accepted, never used to sign. */
  CLIENT_ADDRESS_PREVIOUS_SECRET: env.string({ default: '', minLength: 32, describe: 'a secret of at least 32 characters' }),
};

export const databaseConfigSchema = {
  DATABASE_URL: env.url({ protocols: ['postgres', 'postgresql'] }),
  DATABASE_CREATE_IF_MISSING: env.bool({ default: false }),
  DATABASE_POOL_MAX: env.int({ min: 1, max: 200, default: 10 }),
  /** false: a schema that is behind stops start-up; migrations run in a step of their own (`main.js migrate`). */
  DATABASE_MIGRATE_ON_START: env.bool({ default: true }),
};

export const busConfigSchema = {
  NATS_URL: env.url({ protocols: ['nats', 'tls'], default: 'nats://127.0.0.1:4222' }),
  EVENT_PREFIX: env.string({ default: 'parley', describe: 'lowercase letters, digits and _' }),
  EVENT_STREAM_REPLICAS: env.int({ min: 1, max: 5, default: 1 }),
  CONSUMER_MAX_ATTEMPTS: env.int({ min: 1, max: 100, default: 5 }),
};

/** Services that verify access tokens fetch the signing keys from auth. */
export const authClientConfigSchema = {
  AUTH_URL: env.url({ protocols: ['http', 'https'], default: 'http://127.0.0.1:50051' }),
};
