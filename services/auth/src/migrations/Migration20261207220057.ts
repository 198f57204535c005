import { Migration } from '@mikro-orm/migrations';

export class Migration20261207220057 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "device" add column "secret_hash" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "device" drop column "secret_hash";`);
  }

}
