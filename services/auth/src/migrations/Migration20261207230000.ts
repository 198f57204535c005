import { Migration } from '@mikro-orm/migrations';

/**
 * Registration challenges Register accepted, kept until they expire so none is used twice; and
 * each user's "who may add me to groups".
 */
export class Migration20261207230000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "spent_challenge" ("nonce" text not null, "expires_at" timestamptz not null, constraint "spent_challenge_pkey" primary key ("nonce"));`);
    this.addSql(`create index "spent_challenge_expires_at_index" on "spent_challenge" ("expires_at");`);
    this.addSql(`alter table "app_user" add column "group_add_policy" text not null default 'everyone';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "app_user" drop column "group_add_policy";`);
    this.addSql(`drop table if exists "spent_challenge" cascade;`);
  }
}
