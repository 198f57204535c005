import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Subjects, isNotFound } from '@parley/platform';
import { databaseUrl, dropDatabases } from '@parley/stack';
import pg from 'pg';
import { TEST_PG_URL, newRunId } from './run-id.js';

/** The names one test run owns: its databases, its subject prefix and stream. */
export class TestIsolation {
  readonly runId = newRunId();
  readonly eventPrefix = `parley_${this.runId}`;
  readonly subjects = new Subjects(this.eventPrefix);
  private readonly databases = new Set<string>();

  constructor(readonly pgUrl = TEST_PG_URL) {}

  /** A database name for this run; it is dropped by cleanup. */
  database(purpose: string): string {
    const name = `parley_${this.runId}_${purpose}`;
    this.databases.add(name);
    return name;
  }

  databaseUrl(purpose: string): string {
    return databaseUrl(this.pgUrl, this.database(purpose));
  }

  async query<T = Record<string, unknown>>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: databaseUrl(this.pgUrl, database) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async cleanup(natsUrls: string[]): Promise<void> {
    await dropDatabases(this.pgUrl, [...this.databases]);
    for (const servers of natsUrls) {
      const nc = await connect({ servers, timeout: 2000 }).catch(() => undefined);
      if (!nc) continue;
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.delete(this.subjects.stream).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      } finally {
        await nc.close();
      }
    }
  }
}
