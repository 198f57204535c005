import { Migration } from '@mikro-orm/migrations';

export class Migration20261207214314 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "password_reset_token" alter column "token_hash" type text using ("token_hash"::text);`);
    this.addSql(`alter table "password_reset_token" alter column "token_hash" drop not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "password_reset_token" alter column "token_hash" type text using ("token_hash"::text);`);
    this.addSql(`alter table "password_reset_token" alter column "token_hash" set not null;`);
  }

}
