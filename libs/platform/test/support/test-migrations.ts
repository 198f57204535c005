import type { MigrationObject } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';

/**
 * The platform tables exactly as the services' migrations create them (see
 * services/keys/src/migrations), rate_limit_bucket (as in services/auth/src/migrations) and
 * sanction_standing (as in each enforcing service's), plus a table the consumer tests' handlers write to.
 */
class PlatformTables extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "outbox_event" ("id" uuid not null, "seq" bigserial, "subject" text not null, "payload" bytea not null, "created_at" timestamptz not null, "trace_context" text null, constraint "outbox_event_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox_event" add constraint "outbox_event_seq_unique" unique ("seq");`);
    this.addSql(
      `create table "processed_event" ("consumer" text not null, "event_id" uuid not null, "processed_at" timestamptz not null, constraint "processed_event_pkey" primary key ("consumer", "event_id"));`,
    );
  }
}

class RateLimitTable extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "rate_limit_bucket" ("policy" text not null, "subject" text not null, "tokens" double precision not null, "updated_at" timestamptz not null, "full_at" timestamptz not null, constraint "rate_limit_bucket_pkey" primary key ("policy", "subject"));`,
    );
    this.addSql(`create index "rate_limit_bucket_full_at_index" on "rate_limit_bucket" ("full_at");`);
  }
}

class SanctionStandingTable extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "sanction_standing" ("user_id" uuid not null, "kind" text not null, "sanction_id" text not null, "expires_at" timestamptz null, "reason" text not null, "changed_at" timestamptz not null, constraint "sanction_standing_pkey" primary key ("user_id"));`,
    );
  }
}

class HandlerWrites extends Migration {
  override async up(): Promise<void> {
    // One row per handler attempt; a failed attempt's row must vanish with its transaction.
    this.addSql(`create table "handler_write" ("id" serial primary key, "consumer" text not null, "event_id" uuid not null, "attempt" int not null, "user_id" text not null);`);
  }
}

export const testMigrations: MigrationObject[] = [
  { name: 'PlatformTables', class: PlatformTables },
  { name: 'RateLimitTable', class: RateLimitTable },
  { name: 'HandlerWrites', class: HandlerWrites },
  { name: 'SanctionStandingTable', class: SanctionStandingTable },
];
