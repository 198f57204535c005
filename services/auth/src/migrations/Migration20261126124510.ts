import { Migration } from '@mikro-orm/migrations';

export class Migration20261126124510 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "rate_limit_bucket" ("policy" text not null, "subject" text not null, "tokens" double precision not null, "updated_at" timestamptz not null, "full_at" timestamptz not null, constraint "rate_limit_bucket_pkey" primary key ("policy", "subject"));`);
    this.addSql(`create index "rate_limit_bucket_full_at_index" on "rate_limit_bucket" ("full_at");`);

    this.addSql(`create table "password_reset_token" ("id" uuid not null, "user_id" uuid not null, "token_hash" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "password_reset_token_pkey" primary key ("id"));`);
    this.addSql(`create index "password_reset_token_user_id_index" on "password_reset_token" ("user_id");`);
    this.addSql(`alter table "password_reset_token" add constraint "password_reset_token_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "link_code" ("id" uuid not null, "user_id" uuid not null, "created_by_device_id" smallint not null, "code_hash" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "requested_at" timestamptz null, "requested_device_name" text null, "requested_registration_id" int null, "approval_secret_hash" text null, "approved_at" timestamptz null, "redeemed_at" timestamptz null, constraint "link_code_pkey" primary key ("id"));`);
    this.addSql(`create index "link_code_user_id_index" on "link_code" ("user_id");`);
    this.addSql(`alter table "link_code" add constraint "link_code_code_hash_unique" unique ("code_hash");`);
    this.addSql(`alter table "link_code" add constraint "link_code_approval_secret_hash_unique" unique ("approval_secret_hash");`);

    this.addSql(`create table "device" ("id" uuid not null, "user_id" uuid not null, "device_id" smallint not null, "name" text not null, "registration_id" int not null, "created_at" timestamptz not null, constraint "device_pkey" primary key ("id"));`);
    this.addSql(`alter table "device" add constraint "device_user_id_device_id_unique" unique ("user_id", "device_id");`);

    this.addSql(`create table "contact_request" ("from_id" uuid not null, "to_id" uuid not null, "created_at" timestamptz not null, constraint "contact_request_pkey" primary key ("from_id", "to_id"));`);
    this.addSql(`create index "contact_request_to_id_index" on "contact_request" ("to_id");`);

    this.addSql(`create table "contact" ("user_id" uuid not null, "contact_id" uuid not null, "since" timestamptz not null, constraint "contact_pkey" primary key ("user_id", "contact_id"));`);
    this.addSql(`create index "contact_contact_id_index" on "contact" ("contact_id");`);

    this.addSql(`create table "block" ("blocker_id" uuid not null, "blocked_id" uuid not null, "created_at" timestamptz not null, constraint "block_pkey" primary key ("blocker_id", "blocked_id"));`);
    this.addSql(`create index "block_blocked_id_index" on "block" ("blocked_id");`);

    this.addSql(`alter table "password_reset_token" add constraint "password_reset_token_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "link_code" add constraint "link_code_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "device" add constraint "device_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "contact_request" add constraint "contact_request_from_id_foreign" foreign key ("from_id") references "app_user" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "contact_request" add constraint "contact_request_to_id_foreign" foreign key ("to_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "contact" add constraint "contact_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "contact" add constraint "contact_contact_id_foreign" foreign key ("contact_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "block" add constraint "block_blocker_id_foreign" foreign key ("blocker_id") references "app_user" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "block" add constraint "block_blocked_id_foreign" foreign key ("blocked_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "app_user" add column "display_name" text not null default '', add column "avatar_media_id" text not null default '', add column "messaging_policy" text not null default 'everyone';`);

    // Sessions opened before devices existed belong to no device; they end, and those users log in again.
    this.addSql(`delete from "session";`);
    this.addSql(`alter table "session" add column "device_id" uuid not null, add column "last_refreshed_at" timestamptz null;`);
    this.addSql(`alter table "session" add constraint "session_device_id_foreign" foreign key ("device_id") references "device" ("id") on update cascade on delete cascade;`);
    this.addSql(`create index "session_device_id_index" on "session" ("device_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "session" drop constraint "session_device_id_foreign";`);

    this.addSql(`drop table if exists "rate_limit_bucket" cascade;`);

    this.addSql(`drop table if exists "password_reset_token" cascade;`);

    this.addSql(`drop table if exists "link_code" cascade;`);

    this.addSql(`drop table if exists "device" cascade;`);

    this.addSql(`drop table if exists "contact_request" cascade;`);

    this.addSql(`drop table if exists "contact" cascade;`);

    this.addSql(`drop table if exists "block" cascade;`);

    this.addSql(`alter table "app_user" drop column "display_name", drop column "avatar_media_id", drop column "messaging_policy";`);

    this.addSql(`drop index "session_device_id_index";`);
    this.addSql(`alter table "session" drop column "device_id", drop column "last_refreshed_at";`);
  }

}
