import { randomBytes } from 'node:crypto';

/** A short id, unique per test run, usable in database names and NATS subjects. */
export function newRunId(): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** This test process's CLIENT_ADDRESS_SECRET, given to every stack it starts, so tests can act as the edge. */
export const TEST_CLIENT_ADDRESS_SECRET = randomBytes(32).toString('hex');

export const TEST_PG_URL = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_NATS_URL = process.env.PARLEY_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
