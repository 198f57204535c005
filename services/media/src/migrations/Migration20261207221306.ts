import { Migration } from '@mikro-orm/migrations';

export class Migration20261207221306 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "attachment" ("id" text not null, "owner_id" uuid not null, "size" bigint not null, "sha256" text not null, "content_type" text not null, "created_at" timestamptz not null, "completed_at" timestamptz null, constraint "attachment_pkey" primary key ("id"));`);
    this.addSql(`create index "attachment_owner_id_index" on "attachment" ("owner_id");`);

    this.addSql(`create table "attachment_grant" ("attachment_id" text not null, "conversation_id" uuid not null, "created_at" timestamptz not null, constraint "attachment_grant_pkey" primary key ("attachment_id", "conversation_id"));`);
    this.addSql(`create index "attachment_grant_conversation_id_index" on "attachment_grant" ("conversation_id");`);

    this.addSql(`create table "conversation_members" ("conversation_id" uuid not null, "member_ids" uuid[] not null, "changed_at" timestamptz not null, constraint "conversation_members_pkey" primary key ("conversation_id"));`);

    this.addSql(`create table "rate_limit_bucket" ("policy" text not null, "subject" text not null, "tokens" double precision not null, "updated_at" timestamptz not null, "full_at" timestamptz not null, constraint "rate_limit_bucket_pkey" primary key ("policy", "subject"));`);
    this.addSql(`create index "rate_limit_bucket_full_at_index" on "rate_limit_bucket" ("full_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "attachment" cascade;`);

    this.addSql(`drop table if exists "attachment_grant" cascade;`);

    this.addSql(`drop table if exists "conversation_members" cascade;`);

    this.addSql(`drop table if exists "rate_limit_bucket" cascade;`);
  }

}
