import { databaseConfigSchema, platformConfigSchema } from '../config/platform-config.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { describeDatabase, openDatabase, type DatabaseSpec } from '../db/database.js';
import { createLogger } from '../observability/logger.js';

/**
 * `node services/<name>/dist/main.js migrate`: applies the service's pending migrations under the
 * migration lock and exits, 0 when the schema is current. It reads only LOG_LEVEL and the
 * DATABASE_* variables, so a Job or init container needs nothing else.
 */
export async function migrateCommand(name: string, spec: DatabaseSpec): Promise<void> {
  let cfg;
  try {
    cfg = loadConfig({ LOG_LEVEL: platformConfigSchema.LOG_LEVEL, ...databaseConfigSchema });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${name} migrate: ${err.message}\n`);
    process.exit(1);
  }
  const log = createLogger(name, cfg.LOG_LEVEL);
  const where = describeDatabase(cfg.DATABASE_URL);
  try {
    const orm = await openDatabase(spec, { url: cfg.DATABASE_URL, createIfMissing: cfg.DATABASE_CREATE_IF_MISSING, poolMax: 1, log });
    await orm.close();
  } catch (err) {
    log.fatal(`cannot migrate ${where}: ${(err as Error).message}`);
    process.exit(1);
  }
  log.info(`${where} is migrated`);
  process.exit(0);
}
