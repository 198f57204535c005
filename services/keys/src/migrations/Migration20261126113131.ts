import { Migration } from '@mikro-orm/migrations';

export class Migration20261126113131 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox_event" ("id" uuid not null, "seq" bigserial, "subject" text not null, "payload" bytea not null, "created_at" timestamptz not null, constraint "outbox_event_pkey" primary key ("id"));`);
    this.addSql(`alter table "outbox_event" add constraint "outbox_event_seq_unique" unique ("seq");`);

    this.addSql(`create table "processed_event" ("consumer" text not null, "event_id" uuid not null, "processed_at" timestamptz not null, constraint "processed_event_pkey" primary key ("consumer", "event_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox_event" cascade;`);

    this.addSql(`drop table if exists "processed_event" cascade;`);
  }

}
