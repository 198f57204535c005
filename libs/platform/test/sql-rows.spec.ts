import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { TestIsolation } from '@parley/testing';
import { openDatabase, type MikroORM } from '../src/db/database.js';
import { sqlRows } from '../src/db/sql.js';

const isolation = new TestIsolation();
let orm: MikroORM;

beforeAll(async () => {
  orm = await openDatabase({ entities: [], migrations: [] }, { url: isolation.databaseUrl('sql'), createIfMissing: true, poolMax: 2 });
  await orm.em.fork().execute('create table item (id serial primary key, tags text[] not null, body bytea not null)');
});

afterAll(async () => {
  await orm?.close(true);
  await isolation.cleanup([]);
});

describe('sqlRows', () => {
  it('sends arrays as arrays, empty ones and awkward strings included', async () => {
    const [row] = await sqlRows<{ tags: string[]; none: number[]; bodies: Buffer[] }>(
      orm.em.fork(),
      'select ?::text[] as tags, ?::int[] as none, ?::bytea[] as bodies',
      [['a', `quote ' and "brace" {},`], [], [Buffer.from('hi')]],
    );
    expect(row).toEqual({ tags: ['a', `quote ' and "brace" {},`], none: [], bodies: [Buffer.from('hi')] });
  });

  it("runs in the entity manager's transaction, so a rollback undoes it", async () => {
    const insert = (em: Parameters<typeof sqlRows>[0], tag: string) =>
      sqlRows(em, 'insert into item (tags, body) select ?::text[], b from unnest(?::bytea[]) as b returning id', [[tag], [Buffer.from('x'), Buffer.from('y')]]);
    await expect(
      orm.em.fork().transactional(async (em) => {
        expect(await insert(em, 'rolled-back')).toHaveLength(2);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await orm.em.fork().transactional((em) => insert(em, 'kept'));
    const rows = await sqlRows<{ tags: string[] }>(orm.em.fork(), 'select tags from item order by id');
    expect(rows).toEqual([{ tags: ['kept'] }, { tags: ['kept'] }]);
  });

  it('reports errors as MikroORM does for em.execute', async () => {
    const [row] = await sqlRows<{ id: number }>(orm.em.fork(), "insert into item (tags, body) values ('{}', '') returning id");
    await expect(sqlRows(orm.em.fork(), "insert into item (id, tags, body) values (?, '{}', '')", [row!.id])).rejects.toBeInstanceOf(UniqueConstraintViolationException);
  });
});
