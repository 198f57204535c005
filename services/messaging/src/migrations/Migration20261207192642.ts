import { Migration } from '@mikro-orm/migrations';

export class Migration20261207192642 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "device_projection" add column "queue_seq" bigint not null default 0;`);

    this.addSql(`drop index "queued_delivery_recipient_user_id_recipient_device_id_id_index";`);

    // Deliveries queued before positions existed take them in id order, and each device's counter
    // continues after its last one.
    this.addSql(`alter table "queued_delivery" add column "queue_seq" bigint null;`);
    this.addSql(`update "queued_delivery" q set "queue_seq" = n.seq from (select "id", row_number() over (partition by "recipient_user_id", "recipient_device_id" order by "id") as seq from "queued_delivery") n where q."id" = n."id";`);
    this.addSql(`update "device_projection" d set "queue_seq" = m.top from (select "recipient_user_id", "recipient_device_id", max("queue_seq") as top from "queued_delivery" group by 1, 2) m where d."user_id" = m."recipient_user_id" and d."device_id" = m."recipient_device_id";`);
    this.addSql(`alter table "queued_delivery" alter column "queue_seq" set not null;`);
    this.addSql(`create index "queued_delivery_recipient_user_id_recipient_device_662dc_index" on "queued_delivery" ("recipient_user_id", "recipient_device_id", "queue_seq");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "device_projection" drop column "queue_seq";`);

    this.addSql(`drop index "queued_delivery_recipient_user_id_recipient_device_662dc_index";`);
    this.addSql(`alter table "queued_delivery" drop column "queue_seq";`);

    this.addSql(`create index "queued_delivery_recipient_user_id_recipient_device_id_id_index" on "queued_delivery" ("recipient_user_id", "recipient_device_id", "id");`);
  }

}
