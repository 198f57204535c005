import { Migration } from '@mikro-orm/migrations';

/**
 * The send path in one round trip. The rules a send is decided on become database functions that
 * every query uses (who refuses whom, which devices a send must address), and send_messages stores
 * a batch of sends in the one transaction of its own statement. They are PL/pgSQL, whose plans a
 * connection keeps, not SQL functions, which PostgreSQL parses again at every call it doesn't inline.
 */
export class Migration20261207210000 extends Migration {
  override async up(): Promise<void> {
    // `recipient` does not accept messages from `sender`: either blocked the other, or the
    // recipient accepts contacts only and the sender is not one.
    this.addSql(`create function refuses_sender(recipient uuid, sender uuid) returns boolean language plpgsql stable as $$
      begin
        return exists (select 1 from block_projection b where b.active
                       and ((b.blocker_id = sender and b.blocked_id = recipient) or (b.blocker_id = recipient and b.blocked_id = sender)))
            or (exists (select 1 from messaging_policy_projection p where p.user_id = recipient and p.contacts_only)
                and not exists (select 1 from contact_projection c where c.user_id = recipient and c.contact_user_id = sender and c.active));
      end $$;`);

    // The devices a send by (sender, sender_device) into a conversation must address: every active
    // device of every member, but the sending one.
    this.addSql(`create function conversation_devices(conversation uuid, sender uuid, sender_device smallint)
      returns table (user_id uuid, device_id smallint, registration_id int) language plpgsql stable as $$
      begin
        return query select d.user_id, d.device_id, d.registration_id from conversation_member m
          join device_projection d on d.user_id = m.user_id and d.active and not (d.user_id = sender and d.device_id = sender_device)
          where m.conversation_id = conversation;
      end $$;`);

    // Stores a batch of sends (item i: p_conversation[i] … p_message_id[i]; its envelopes are the
    // next p_env_count[i] entries of the p_env_* arrays) and answers each with its status.
    // Conversations, then devices, are locked in key order, so two batches never wait on each
    // other in a cycle. An item is 'sent' (its deliveries come back with their queue positions),
    // 'duplicate' or 'used_elsewhere' (its client_message_id was already sent, here or in another
    // conversation), 'not_member', 'refused' (a direct conversation's other member refuses the
    // sender), or 'mismatch' (its envelopes are not exactly conversation_devices with their
    // registration ids; an item never holds two envelopes for one device). In a group,
    // envelopes to members who blocked the sender are required but not queued.
    this.addSql(`create function send_messages(
        p_conversation uuid[], p_sender uuid[], p_sender_device smallint[], p_client_message_id text[], p_message_id uuid[],
        p_env_count int[], p_env_user uuid[], p_env_device smallint[], p_env_registration int[], p_env_body bytea[],
        p_sent_at timestamptz, p_expires_at timestamptz)
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
              if expected <> p_env_count[i] or matched <> p_env_count[i] then
                status := 'mismatch';
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
                  update device_projection d set queue_seq = d.queue_seq + 1 from target t
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
    this.addSql(`drop function conversation_devices;`);
    this.addSql(`drop function refuses_sender;`);
  }
}
