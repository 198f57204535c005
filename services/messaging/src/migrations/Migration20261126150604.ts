import { Migration } from '@mikro-orm/migrations';

export class Migration20261126150604 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "message" ("id" uuid not null, "conversation_id" uuid not null, "seq" bigint not null, "sender_user_id" uuid not null, "sender_device_id" smallint not null, "client_message_id" text not null, "sent_at" timestamptz not null, "expires_at" timestamptz not null, "recipients" text[] not null, "dropped" text[] not null default '{}', "retracted_at" timestamptz null, constraint "message_pkey" primary key ("id"));`);
    this.addSql(`create index "message_expires_at_index" on "message" ("expires_at");`);
    this.addSql(`alter table "message" add constraint "message_sender_user_id_client_message_id_unique" unique ("sender_user_id", "client_message_id");`);
    this.addSql(`alter table "message" add constraint "message_conversation_id_seq_unique" unique ("conversation_id", "seq");`);

    this.addSql(`create table "queued_delivery" ("id" bigserial primary key, "recipient_user_id" uuid not null, "recipient_device_id" smallint not null, "message_id" uuid null, "body" bytea not null, "created_at" timestamptz not null, "expires_at" timestamptz not null);`);
    this.addSql(`create index "queued_delivery_message_id_index" on "queued_delivery" ("message_id");`);
    this.addSql(`create index "queued_delivery_expires_at_index" on "queued_delivery" ("expires_at");`);
    this.addSql(`create index "queued_delivery_recipient_user_id_recipient_device_id_id_index" on "queued_delivery" ("recipient_user_id", "recipient_device_id", "id");`);

    this.addSql(`create table "stored_item" ("user_id" uuid not null, "key" text not null, "value" bytea not null, "version" bigint not null, "updated_at" timestamptz not null, constraint "stored_item_pkey" primary key ("user_id", "key"));`);

    this.addSql(`alter table "message" add constraint "message_conversation_id_foreign" foreign key ("conversation_id") references "conversation" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "queued_delivery" add constraint "queued_delivery_message_id_foreign" foreign key ("message_id") references "message" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "conversation" add column "last_seq" bigint not null default 0, add column "last_activity_at" timestamptz not null default now(), add column "encrypted_info" bytea null, add column "info_version" int not null default 0;`);

    this.addSql(`alter table "conversation_member" add column "archived" boolean not null default false, add column "muted_until" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "queued_delivery" drop constraint "queued_delivery_message_id_foreign";`);

    this.addSql(`drop table if exists "message" cascade;`);

    this.addSql(`drop table if exists "queued_delivery" cascade;`);

    this.addSql(`drop table if exists "stored_item" cascade;`);

    this.addSql(`alter table "conversation" drop column "last_seq", drop column "last_activity_at", drop column "encrypted_info", drop column "info_version";`);

    this.addSql(`alter table "conversation_member" drop column "archived", drop column "muted_until";`);
  }

}
