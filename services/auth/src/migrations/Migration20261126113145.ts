import { Migration } from '@mikro-orm/migrations';

export class Migration20261126113145 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox_event" ("id" uuid not null, "seq" bigserial, "subject" text not null, "payload" bytea not null, "created_at" timestamptz not null, constraint "outbox_event_pkey" primary key ("id"));`);
    this.addSql(`alter table "outbox_event" add constraint "outbox_event_seq_unique" unique ("seq");`);

    this.addSql(`create table "processed_event" ("consumer" text not null, "event_id" uuid not null, "processed_at" timestamptz not null, constraint "processed_event_pkey" primary key ("consumer", "event_id"));`);

    this.addSql(`create table "app_user" ("id" uuid not null, "username" text not null, "password_hash" text not null, "created_at" timestamptz not null, constraint "app_user_pkey" primary key ("id"));`);
    this.addSql(`alter table "app_user" add constraint "app_user_username_unique" unique ("username");`);

    this.addSql(`create table "session" ("id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null, "revoked_at" timestamptz null, constraint "session_pkey" primary key ("id"));`);
    this.addSql(`create index "session_user_id_index" on "session" ("user_id");`);

    this.addSql(`create table "refresh_token" ("id" uuid not null, "session_id" uuid not null, "token_hash" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "refresh_token_pkey" primary key ("id"));`);
    this.addSql(`create index "refresh_token_session_id_index" on "refresh_token" ("session_id");`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_token_hash_unique" unique ("token_hash");`);

    this.addSql(`alter table "session" add constraint "session_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "refresh_token" add constraint "refresh_token_session_id_foreign" foreign key ("session_id") references "session" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "session" drop constraint "session_user_id_foreign";`);

    this.addSql(`alter table "refresh_token" drop constraint "refresh_token_session_id_foreign";`);

    this.addSql(`drop table if exists "outbox_event" cascade;`);

    this.addSql(`drop table if exists "processed_event" cascade;`);

    this.addSql(`drop table if exists "app_user" cascade;`);

    this.addSql(`drop table if exists "session" cascade;`);

    this.addSql(`drop table if exists "refresh_token" cascade;`);
  }

}
