import { Migration } from '@mikro-orm/migrations';
import { Migration20261207220000 } from './Migration20261207220000.js';

/**
 * messaging.message.sent, recorded by send_messages in the send's own statement (so in its
 * transaction, at no extra round trip): the caller encodes the event but for what only the
 * statement knows, the conversation's kind and a direct conversation's other user, which it
 * appends (protobuf fields 5 and 6 of MessageSent; a message may be encoded in parts), and
 * outbox_event_payload wraps the payload as the envelope's Any (its field 5, encoded last).
 */
export class Migration20261208003000 extends Migration {
  override async up(): Promise<void> {
    // A protobuf length prefix (a varint) of up to 16383 bytes, all an event here needs.
    this.addSql(`create function protobuf_length(n int) returns bytea language plpgsql immutable as $$
      begin
        if n < 0 or n >= 16384 then raise exception 'protobuf_length: % is out of range', n; end if;
        if n < 128 then return set_byte('\\x00'::bytea, 0, n); end if;
        return set_byte(set_byte('\\x0000'::bytea, 0, (n & 127) | 128), 1, n >> 7);
      end $$;`);
    // An EventEnvelope from its encoding without the payload, and the payload's type URL and bytes.
    this.addSql(`create function outbox_event_payload(p_head bytea, p_type_url text, p_value bytea) returns bytea language sql immutable as $$
      select p_head || '\\x2a'::bytea || protobuf_length(octet_length(a)) || a
      from (select '\\x0a'::bytea || protobuf_length(octet_length(convert_to(p_type_url, 'UTF8'))) || convert_to(p_type_url, 'UTF8')
                   || '\\x12'::bytea || protobuf_length(octet_length(p_value)) || p_value as a) any_payload
    $$;`);
    this.addSql(`drop function send_messages;`);
    // As before, and: a stored message records its messaging.message.sent (ids and parts in p_event_*).
    this.addSql(`create function send_messages(
        p_conversation uuid[], p_sender uuid[], p_sender_device smallint[], p_client_message_id text[], p_message_id uuid[],
        p_env_count int[], p_env_user uuid[], p_env_device smallint[], p_env_registration int[], p_env_body bytea[],
        p_sent_at timestamptz, p_expires_at timestamptz,
        p_allowed boolean[], p_queue_max_count int, p_queue_max_bytes bigint,
        p_event_id uuid[], p_event_head bytea[], p_event_body bytea[], p_event_subject text, p_event_type_url text)
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
                -- messaging.message.sent: the body is encoded by the caller but for the conversation's kind, or the other user of a direct one.
                insert into outbox_event (id, subject, payload, created_at)
                values (p_event_id[i], p_event_subject, outbox_event_payload(p_event_head[i], p_event_type_url, p_event_body[i] ||
                  case when conv_kind = 'group' then '\\x2801'::bytea
                  else coalesce((select '\\x3224'::bytea || convert_to(m.user_id::text, 'UTF8') from conversation_member m
                                 where m.conversation_id = p_conversation[i] and m.user_id <> p_sender[i]), '') end), p_sent_at);
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
    this.addSql(`drop function outbox_event_payload;`);
    this.addSql(`drop function protobuf_length;`);
    // send_messages as the previous migration made it.
    const previous = new Migration20261207220000(this.driver, this.config);
    await previous.up();
    for (const query of previous.getQueries()) if (String(query).includes('create function send_messages(')) this.addSql(query);
  }
}
