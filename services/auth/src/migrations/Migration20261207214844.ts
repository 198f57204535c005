import { Migration } from '@mikro-orm/migrations';

export class Migration20261207214844 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "link_code" add column "requested_identity_key" bytea null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "link_code" drop column "requested_identity_key";`);
  }

}
