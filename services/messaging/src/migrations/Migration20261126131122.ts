import { Migration } from '@mikro-orm/migrations';

export class Migration20261126131122 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "device_projection" ("user_id" uuid not null, "device_id" smallint not null, "registration_id" int not null, "active" boolean not null, "changed_at" timestamptz not null, constraint "device_projection_pkey" primary key ("user_id", "device_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "device_projection" cascade;`);
  }

}
