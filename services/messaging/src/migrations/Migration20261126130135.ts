import { Migration } from '@mikro-orm/migrations';

export class Migration20261126130135 extends Migration {

  override async up(): Promise<void> {
    // Rows already there are live blocks, contacts and policies; dated at the epoch, any event about them is newer.
    for (const table of ['block_projection', 'contact_projection']) {
      this.addSql(`alter table "${table}" add column "active" boolean not null default true, add column "changed_at" timestamptz not null default 'epoch';`);
      this.addSql(`alter table "${table}" alter column "active" drop default, alter column "changed_at" drop default;`);
    }
    this.addSql(`alter table "messaging_policy_projection" add column "changed_at" timestamptz not null default 'epoch';`);
    this.addSql(`alter table "messaging_policy_projection" alter column "changed_at" drop default;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "block_projection" drop column "active", drop column "changed_at";`);

    this.addSql(`alter table "contact_projection" drop column "active", drop column "changed_at";`);

    this.addSql(`alter table "messaging_policy_projection" drop column "changed_at";`);
  }

}
