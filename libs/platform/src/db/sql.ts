import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type { SqlRunner, Statement } from './sql-pool.js';

/**
 * Runs `text` with its `?` parameters sent to PostgreSQL as parameters, in `em`'s transaction when
 * it has one, and returns the rows. Use it rather than `em.execute` whenever a parameter is an
 * array: `em.execute` inlines parameters and renders an array as a comma-separated list, so
 * `= any(?::uuid[])` or `unnest(?::bytea[])` break (and an empty array is a syntax error).
 * Errors are MikroORM's, as from `em.execute` (e.g. UniqueConstraintViolationException).
 */
export async function sqlRows<T = Record<string, unknown>>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<T[]> {
  const query = em.getKnex().raw(text, params as readonly Knex.RawBinding[]);
  const trx = em.getTransactionContext();
  if (trx) query.transacting(trx);
  try {
    const result = (await query) as { rows: T[] };
    return result.rows;
  } catch (err) {
    throw em.getDriver().convertException(err as Error);
  }
}

/**
 * `em`'s connection (and transaction, when it has one) as a SqlRunner, so SQL written for SqlPool
 * (`$n` parameters, named statements) also runs inside a MikroORM unit of work.
 */
export function emRunner(em: EntityManager): SqlRunner {
  return {
    query<R>(statement: Statement | string, values: readonly unknown[] = []): Promise<R[]> {
      const text = typeof statement === 'string' ? statement : statement.text;
      const ordered: unknown[] = [];
      const positional = text.replace(/\$(\d+)/g, (_m, n: string) => {
        ordered.push(values[Number(n) - 1]);
        return '?';
      });
      return sqlRows<R>(em, positional, ordered);
    },
  };
}
