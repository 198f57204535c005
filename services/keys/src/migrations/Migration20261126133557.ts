import { Migration } from '@mikro-orm/migrations';

export class Migration20261126133557 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "block_projection" ("blocker_id" uuid not null, "blocked_id" uuid not null, "active" boolean not null, "changed_at" timestamptz not null, constraint "block_projection_pkey" primary key ("blocker_id", "blocked_id"));`);
    this.addSql(`create index "block_projection_blocked_id_index" on "block_projection" ("blocked_id");`);

    this.addSql(`create table "device_keys" ("user_id" uuid not null, "device_id" smallint not null, "identity_key" bytea not null, "signed_pre_key_id" bigint not null, "signed_pre_key" bytea not null, "signed_pre_key_signature" bytea not null, "last_resort_key_id" bigint not null, "last_resort_key" bytea not null, "last_resort_signature" bytea not null, "log_index" bigint not null, "low_notified" boolean not null default false, "updated_at" timestamptz not null, constraint "device_keys_pkey" primary key ("user_id", "device_id"));`);

    this.addSql(`create table "device_projection" ("user_id" uuid not null, "device_id" smallint not null, "registration_id" int not null, "active" boolean not null, "changed_at" timestamptz not null, constraint "device_projection_pkey" primary key ("user_id", "device_id"));`);

    this.addSql(`create table "ec_pre_key" ("user_id" uuid not null, "device_id" smallint not null, "key_id" bigint not null, "public_key" bytea not null, constraint "ec_pre_key_pkey" primary key ("user_id", "device_id", "key_id"));`);

    this.addSql(`create table "identity_log_entry" ("leaf_index" bigint not null, "leaf_hash" bytea not null, constraint "identity_log_entry_pkey" primary key ("leaf_index"));`);

    this.addSql(`create table "kyber_pre_key" ("user_id" uuid not null, "device_id" smallint not null, "key_id" bigint not null, "public_key" bytea not null, "signature" bytea not null, constraint "kyber_pre_key_pkey" primary key ("user_id", "device_id", "key_id"));`);

    this.addSql(`create table "rate_limit_bucket" ("policy" text not null, "subject" text not null, "tokens" double precision not null, "updated_at" timestamptz not null, "full_at" timestamptz not null, constraint "rate_limit_bucket_pkey" primary key ("policy", "subject"));`);
    this.addSql(`create index "rate_limit_bucket_full_at_index" on "rate_limit_bucket" ("full_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "block_projection" cascade;`);

    this.addSql(`drop table if exists "device_keys" cascade;`);

    this.addSql(`drop table if exists "device_projection" cascade;`);

    this.addSql(`drop table if exists "ec_pre_key" cascade;`);

    this.addSql(`drop table if exists "identity_log_entry" cascade;`);

    this.addSql(`drop table if exists "kyber_pre_key" cascade;`);

    this.addSql(`drop table if exists "rate_limit_bucket" cascade;`);
  }

}
