import { Migration } from '@mikro-orm/migrations';

export class Migration20261207214925 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "device_projection" add column "linked_identity_key" bytea null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "device_projection" drop column "linked_identity_key";`);
  }

}
