import { Migration } from '@mikro-orm/migrations';

/** The trace context of the work that recorded an outbox event, which the relay sends on as a NATS header. */
export class Migration20261208010000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "outbox_event" add column "trace_context" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox_event" drop column "trace_context";`);
  }
}
