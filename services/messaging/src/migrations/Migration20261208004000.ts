import { Migration } from '@mikro-orm/migrations';

export class Migration20261208004000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "sanction_standing" ("user_id" uuid not null, "kind" text not null, "sanction_id" text not null, "expires_at" timestamptz null, "reason" text not null, "changed_at" timestamptz not null, constraint "sanction_standing_pkey" primary key ("user_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sanction_standing" cascade;`);
  }

}
