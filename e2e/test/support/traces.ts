import { SERVICES, type ServiceName } from '@parley/stack';
import type { TestStack } from '@parley/testing';

/** A row that still mentions a value: where it was found. */
export interface Trace {
  service: ServiceName;
  table: string;
  column: string;
}

/**
 * Searches every column of every table of every service's database for any of `values`, as text
 * or inside binary columns (e.g. encoded events), so nothing escapes by being stored oddly.
 */
export async function tracesOf(stack: TestStack, values: string[]): Promise<Trace[]> {
  const found: Trace[] = [];
  for (const { name } of SERVICES.filter((s) => s.database)) {
    const columns = await stack.query<{ table_name: string; column_name: string; data_type: string }>(
      name,
      `select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'public' and table_name <> 'mikro_orm_migrations' order by table_name, ordinal_position`,
    );
    for (const { table_name: table, column_name: column, data_type: type } of columns) {
      const test =
        type === 'bytea'
          ? `position(convert_to($1, 'UTF8') in "${column}") > 0`
          : `strpos(lower("${column}"::text), lower($1)) > 0`;
      for (const value of values) {
        const [row] = await stack.query<{ n: number }>(name, `select count(*)::int as n from "${table}" where ${test}`, [value]);
        if (row!.n > 0) found.push({ service: name, table, column });
      }
    }
  }
  return found;
}
