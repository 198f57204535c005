import { Migration } from '@mikro-orm/migrations';

export class Migration20261126131046 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "session" add column "password_verified_at" timestamptz null;`);
    // Until now every session was opened with the password.
    this.addSql(`update "session" set "password_verified_at" = "created_at";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "session" drop column "password_verified_at";`);
  }

}
