import { TestIsolation } from '@parley/testing';
import { SQL_STATE, SqlPool, sqlState } from '../src/db/sql-pool.js';

const isolation = new TestIsolation();
let pool: SqlPool;

beforeAll(async () => {
  const url = isolation.databaseUrl('sqlpool');
  await isolation.query('postgres', `create database "${isolation.database('sqlpool')}"`);
  pool = new SqlPool(url, 2);
  await pool.query('create table t (id int primary key, v text not null)');
});

afterAll(async () => {
  await pool.close();
  await isolation.cleanup([]);
});

describe('SqlPool', () => {
  it('runs named statements with parameters, again and again', async () => {
    const insert = { name: 'insert_t', text: 'insert into t (id, v) values ($1, $2) returning id' };
    for (const id of [1, 2, 3]) expect(await pool.query(insert, [id, `v${id}`])).toEqual([{ id }]);
    expect(await pool.query<{ n: number }>('select count(*)::int as n from t')).toEqual([{ n: 3 }]);
  });

  it('commits a transaction that returns and rolls back one that throws', async () => {
    await pool.transaction(async (tx) => tx.query('insert into t (id, v) values (10, $1)', ['kept']));
    const failed = await pool
      .transaction(async (tx) => {
        await tx.query('insert into t (id, v) values (11, $1)', ['gone']);
        await tx.query('insert into t (id, v) values (10, $1)', ['duplicate']);
      })
      .catch((err: unknown) => err);
    expect(sqlState(failed)).toBe(SQL_STATE.uniqueViolation);
    expect(await pool.query('select id, v from t where id >= 10 order by id')).toEqual([{ id: 10, v: 'kept' }]);
  });

  it('gives every connection back, whatever the transactions did', async () => {
    const failing = Array.from({ length: 5 }, () => pool.transaction(async () => Promise.reject(new Error('no'))).catch(() => undefined));
    await Promise.all(failing);
    // Two connections in the pool: were one leaked, this would wait forever.
    await expect(Promise.all([pool.query('select 1'), pool.query('select 2'), pool.query('select 3')])).resolves.toHaveLength(3);
  });
});
