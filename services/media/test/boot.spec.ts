import { grpcHealthCheck } from '@parley/stack';
import { startTestStack, type TestStack } from '@parley/testing';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ services: ['media'] });
});

afterAll(() => stack?.cleanup());

it('migrates its own fresh database and serves health and metrics', async () => {
  const tables = await stack.query<{ tablename: string }>('media', "select tablename from pg_tables where schemaname = 'public' order by 1");
  expect(tables.map((t) => t.tablename)).toEqual(['attachment', 'attachment_grant', 'conversation_members', 'mikro_orm_migrations', 'outbox_event', 'processed_event', 'rate_limit_bucket']);
  await expect(grpcHealthCheck(`127.0.0.1:${stack.services.media.rpcPort}`)).resolves.toBe('SERVING');
  expect(await stack.metrics('media')).toContain('service="media"');
});
