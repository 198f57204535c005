import { Migration } from '@mikro-orm/migrations';

export class Migration20261126125502 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "block_projection" ("blocker_id" uuid not null, "blocked_id" uuid not null, constraint "block_projection_pkey" primary key ("blocker_id", "blocked_id"));`);
    this.addSql(`create index "block_projection_blocked_id_index" on "block_projection" ("blocked_id");`);

    this.addSql(`create table "contact_projection" ("user_id" uuid not null, "contact_user_id" uuid not null, constraint "contact_projection_pkey" primary key ("user_id", "contact_user_id"));`);
    this.addSql(`create index "contact_projection_contact_user_id_index" on "contact_projection" ("contact_user_id");`);

    this.addSql(`create table "conversation" ("id" uuid not null, "kind" text not null, "created_at" timestamptz not null, "direct_pair_key" text null, constraint "conversation_pkey" primary key ("id"));`);
    this.addSql(`alter table "conversation" add constraint "conversation_direct_pair_key_unique" unique ("direct_pair_key");`);

    this.addSql(`create table "conversation_member" ("conversation_id" uuid not null, "user_id" uuid not null, "role" text not null, "joined_at" timestamptz not null, constraint "conversation_member_pkey" primary key ("conversation_id", "user_id"));`);
    this.addSql(`create index "conversation_member_user_id_index" on "conversation_member" ("user_id");`);

    this.addSql(`create table "messaging_policy_projection" ("user_id" uuid not null, "contacts_only" boolean not null, constraint "messaging_policy_projection_pkey" primary key ("user_id"));`);

    this.addSql(`alter table "conversation_member" add constraint "conversation_member_conversation_id_foreign" foreign key ("conversation_id") references "conversation" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "conversation_member" drop constraint "conversation_member_conversation_id_foreign";`);

    this.addSql(`drop table if exists "block_projection" cascade;`);

    this.addSql(`drop table if exists "contact_projection" cascade;`);

    this.addSql(`drop table if exists "conversation" cascade;`);

    this.addSql(`drop table if exists "conversation_member" cascade;`);

    this.addSql(`drop table if exists "messaging_policy_projection" cascade;`);
  }

}
