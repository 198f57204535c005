import { grpcHealthCheck } from '@parley/stack';
import { startTestStack, type TestStack } from '@parley/testing';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ services: ['moderation'] });
});

afterAll(() => stack?.cleanup());

it('migrates its own fresh database and serves health and metrics', async () => {
  const tables = await stack.query<{ tablename: string }>('moderation', "select tablename from pg_tables where schemaname = 'public' order by 1");
  expect(tables.map((t) => t.tablename)).toEqual([
    'activity',
    'audit_entry',
    'case_note',
    'contact_pair',
    'conversation_members',
    'mikro_orm_migrations',
    'moderation_case',
    'moderation_user',
    'outbox_event',
    'processed_event',
    'rate_limit_bucket',
    'report',
    'role_grant',
    'rule_hit',
    'sanction',
  ]);
  await expect(grpcHealthCheck(`127.0.0.1:${stack.services.moderation.rpcPort}`)).resolves.toBe('SERVING');
  expect(await stack.metrics('moderation')).toContain('service="moderation"');
});
