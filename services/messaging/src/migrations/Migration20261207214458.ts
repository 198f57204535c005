import { Migration } from '@mikro-orm/migrations';

export class Migration20261207214458 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "message_sent_at_index" on "message" ("sent_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "message_sent_at_index";`);
  }

}
