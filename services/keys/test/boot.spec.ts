import { grpcHealthCheck } from '@parley/stack';
import { startTestStack, type TestStack } from '@parley/testing';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ services: ['keys'] });
});

afterAll(() => stack?.cleanup());

it('migrates its own fresh database and serves health and metrics', async () => {
  const tables = await stack.query<{ tablename: string }>('keys', "select tablename from pg_tables where schemaname = 'public' order by 1");
  expect(tables.map((t) => t.tablename)).toEqual([
    'block_projection',
    'device_keys',
    'device_projection',
    'ec_pre_key',
    'identity_log_entry',
    'kyber_pre_key',
    'mikro_orm_migrations',
    'outbox_event',
    'processed_event',
    'rate_limit_bucket',
    'sanction_standing',
  ]);
  await expect(grpcHealthCheck(`127.0.0.1:${stack.services.keys.rpcPort}`)).resolves.toBe('SERVING');
  expect(await stack.metrics('keys')).toContain('service="keys"');
});
