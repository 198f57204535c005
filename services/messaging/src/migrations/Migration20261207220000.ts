import { Migration } from '@mikro-orm/migrations';
import { Migration20261207210000 } from './Migration20261207210000.js';

/**
 * Limits on the send path, inside send_messages so they cost no round trip: the per-sender rate
 * limit's take rides in the statement that calls it (p_allowed says which items it allowed), and
 * each device queue has a quota of undelivered items and bytes. A device's counters are raised by
 * whatever queues (send_messages, enqueue_deliveries) in the update that gives the queue position,
 * and lowered by a trigger on every delete from queued_delivery (acks, expiry, retraction,
 * revocation, account deletion, a message's cascade), once per statement. And the projection of
 * each user's "who may add me to groups".
 */
export class Migration20261207220000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "rate_limit_bucket" ("policy" text not null, "subject" text not null, "tokens" double precision not null, "updated_at" timestamptz not null, "full_at" timestamptz not null, constraint "rate_limit_bucket_pkey" primary key ("policy", "subject"));`);
    this.addSql(`create index "rate_limit_bucket_full_at_index" on "rate_limit_bucket" ("full_at");`);

    this.addSql(`alter table "device_projection" add column "queued_count" int not null default 0, add column "queued_bytes" bigint not null default 0;`);
    this.addSql(`update device_projection d set queued_count = q.n, queued_bytes = q.bytes
      from (select recipient_user_id, recipient_device_id, count(*) as n, sum(octet_length(body)) as bytes from queued_delivery group by 1, 2) q
      where d.user_id = q.recipient_user_id and d.device_id = q.recipient_device_id;`);
    // Devices locked in key order, as every writer of device_projection locks them.
    this.addSql(`create function queued_delivery_uncounted() returns trigger language plpgsql as $$
      begin
        perform 1 from device_projection d
          where (d.user_id, d.device_id) in (select recipient_user_id, recipient_device_id from gone)
          order by d.user_id, d.device_id for update;
        update device_projection d set queued_count = d.queued_count - g.n, queued_bytes = d.queued_bytes - g.bytes
          from (select recipient_user_id, recipient_device_id, count(*) as n, sum(octet_length(body)) as bytes from gone group by 1, 2) g
          where d.user_id = g.recipient_user_id and d.device_id = g.recipient_device_id;
        return null;
      end $$;`);
    this.addSql(`create trigger queued_delivery_deleted after delete on queued_delivery
      referencing old table as gone for each statement execute function queued_delivery_uncounted();`);

    // Who may add a user to groups (auth.privacy.changed's group_adds).
    this.addSql(`alter table "messaging_policy_projection" add column "group_adds" text not null default 'everyone';`);

    this.addSql(`drop function send_messages;`);
    // As before, and: an item whose sender p_allowed refuses is 'limited'; one that would take a
    // recipient's queue past p_queue_max_count items or p_queue_max_bytes bytes is 'queue_full',
    // naming that device in delivery_users[1] and delivery_devices[1].
    this.addSql(`create function send_messages(
        p_conversation uuid[], p_sender uuid[], p_sender_device smallint[], p_client_message_id text[], p_message_id uuid[],
        p_env_count int[], p_env_user uuid[], p_env_device smallint[], p_env_registration int[], p_env_body bytea[],
        p_sent_at timestamptz, p_expires_at timestamptz,
        p_allowed boolean[], p_queue_max_count int, p_queue_max_bytes bigint)
      returns table (ord int, status text, message_id uuid, seq bigint, sent_at timestamptz,
                     delivery_ids bigint[], delivery_users uuid[], delivery_devices smallint[], delivery_queue_seqs bigint[])
      language plpgsql as $$
      #variable_conflict use_column
      declare
        i int;
        first_env int := 1;
        last_env int;
        earlier record;
        conv_kind text;
        expected int;
        matched int;
        next_seq bigint;
        full_user uuid;
        full_device smallint;
      begin
        perform 1 from conversation c where c.id = any(p_conversation) order by c.id for update;
        perform 1 from device_projection d
          where (d.user_id, d.device_id) in (select * from unnest(p_env_user, p_env_device))
          order by d.user_id, d.device_id for update;
        for i in 1 .. coalesce(array_length(p_conversation, 1), 0) loop
          ord := i;
          message_id := null; seq := null; sent_at := null;
          delivery_ids := null; delivery_users := null; delivery_devices := null; delivery_queue_seqs := null;
          last_env := first_env + p_env_count[i] - 1;
          select m.id, m.conversation_id, m.seq, m.sent_at into earlier from message m
            where m.sender_user_id = p_sender[i] and m.client_message_id = p_client_message_id[i];
          if found then
            status := case when earlier.conversation_id = p_conversation[i] then 'duplicate' else 'used_elsewhere' end;
            message_id := earlier.id; seq := earlier.seq; sent_at := earlier.sent_at;
          elsif not p_allowed[i] then
            status := 'limited';
          else
            select c.kind into conv_kind from conversation c
              where c.id = p_conversation[i]
                and exists (select 1 from conversation_member m where m.conversation_id = c.id and m.user_id = p_sender[i]);
            if not found then
              status := 'not_member';
            elsif conv_kind = 'direct' and exists (
                select 1 from conversation_member m
                where m.conversation_id = p_conversation[i] and m.user_id <> p_sender[i] and refuses_sender(m.user_id, p_sender[i])) then
              status := 'refused';
            else
              select count(*), count(e.u) into expected, matched
                from conversation_devices(p_conversation[i], p_sender[i], p_sender_device[i]) d
                left join unnest(p_env_user[first_env:last_env], p_env_device[first_env:last_env], p_env_registration[first_env:last_env]) e(u, dv, r)
                  on e.u = d.user_id and e.dv = d.device_id and e.r = d.registration_id;
              -- A queue the send would take past its quota refuses the whole send (the first such device is named).
              select t.u, t.dv into full_user, full_device
                from unnest(p_env_user[first_env:last_env], p_env_device[first_env:last_env], p_env_body[first_env:last_env]) t(u, dv, b)
                join device_projection d on d.user_id = t.u and d.device_id = t.dv
                where not exists (select 1 from block_projection bp where bp.active and bp.blocker_id = t.u and bp.blocked_id = p_sender[i] and t.u <> p_sender[i])
                  and (d.queued_count + 1 > p_queue_max_count or d.queued_bytes + octet_length(t.b) > p_queue_max_bytes)
                order by t.u, t.dv limit 1;
              if expected <> p_env_count[i] or matched <> p_env_count[i] then
                status := 'mismatch';
              elsif full_user is not null then
                status := 'queue_full';
                delivery_users := array[full_user]; delivery_devices := array[full_device];
              else
                update conversation c set last_seq = c.last_seq + 1, last_activity_at = p_sent_at where c.id = p_conversation[i]
                  returning c.last_seq into next_seq;
                with target as (
                  select t.u, t.dv, t.b, t.k
                  from unnest(p_env_user[first_env:last_env], p_env_device[first_env:last_env], p_env_body[first_env:last_env]) with ordinality t(u, dv, b, k)
                  where not exists (select 1 from block_projection bp where bp.active and bp.blocker_id = t.u and bp.blocked_id = p_sender[i] and t.u <> p_sender[i])
                ), stored as (
                  insert into message (id, conversation_id, seq, sender_user_id, sender_device_id, client_message_id, sent_at, expires_at, recipients)
                  values (p_message_id[i], p_conversation[i], next_seq, p_sender[i], p_sender_device[i], p_client_message_id[i], p_sent_at, p_expires_at,
                          array(select t.u::text || '.' || t.dv from target t order by t.k))
                ), advanced as (
                  update device_projection d
                    set queue_seq = d.queue_seq + 1, queued_count = d.queued_count + 1, queued_bytes = d.queued_bytes + octet_length(t.b)
                    from target t
                  where d.user_id = t.u and d.device_id = t.dv
                  returning d.user_id, d.device_id, d.queue_seq
                ), queued as (
                  insert into queued_delivery (recipient_user_id, recipient_device_id, queue_seq, message_id, body, created_at, expires_at)
                  select a.user_id, a.device_id, a.queue_seq, p_message_id[i], t.b, p_sent_at, p_expires_at
                  from advanced a join target t on t.u = a.user_id and t.dv = a.device_id
                  returning queued_delivery.id, queued_delivery.recipient_user_id, queued_delivery.recipient_device_id, queued_delivery.queue_seq
                )
                select array_agg(q.id), array_agg(q.recipient_user_id), array_agg(q.recipient_device_id), array_agg(q.queue_seq)
                  into delivery_ids, delivery_users, delivery_devices, delivery_queue_seqs from queued q;
                status := 'sent';
                message_id := p_message_id[i];
                seq := next_seq;
                sent_at := p_sent_at;
              end if;
            end if;
          end if;
          first_env := last_env + 1;
          return next;
        end loop;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function send_messages;`);
    this.addSql(`drop trigger queued_delivery_deleted on queued_delivery;`);
    this.addSql(`drop function queued_delivery_uncounted;`);
    this.addSql(`alter table "device_projection" drop column "queued_count", drop column "queued_bytes";`);
    this.addSql(`alter table "messaging_policy_projection" drop column "group_adds";`);
    this.addSql(`drop table if exists "rate_limit_bucket" cascade;`);
    // send_messages as the previous migration made it.
    const previous = new Migration20261207210000(this.driver, this.config);
    await previous.up();
    for (const query of previous.getQueries()) if (String(query).includes('create function send_messages(')) this.addSql(query);
  }
}
