/** Rows come back from PostgreSQL with timestamps as text: this makes the named columns Dates, in place. */
export function withDates<T extends object>(rows: T[], columns: readonly (keyof T)[]): T[] {
  for (const row of rows) {
    for (const column of columns) {
      const value = row[column] as unknown;
      if (value !== null && value !== undefined && !(value instanceof Date)) (row as Record<keyof T, unknown>)[column] = new Date(value as string);
    }
  }
  return rows;
}
