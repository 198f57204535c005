import { Migration } from '@mikro-orm/migrations';

export class Migration20261207230001 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "published_signing_key" ("kid" text not null, "published_at" timestamptz not null, constraint "published_signing_key_pkey" primary key ("kid"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "published_signing_key" cascade;`);
  }

}
