import { Migration } from '@mikro-orm/migrations';

/**
 * claim_pre_key_bundles: a batch of prekey claims in one call, so a claim costs no round trip of
 * its own and a device row is locked for microseconds, not for a conversation with the client.
 * Written by hand (functions are not entities); see get-pre-key-bundles.usecase.ts for its caller.
 */
export class Migration20261207194500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create function claim_pre_key_bundles(
  p_requesters uuid[], p_targets uuid[], p_device_ids smallint[], p_allowed boolean[], p_low_water_mark int, p_log_from bigint)
returns table (
  claim int, outcome text, device_id smallint, registration_id int, identity_key bytea,
  signed_pre_key_id bigint, signed_pre_key bytea, signed_pre_key_signature bytea,
  pre_key_id bigint, pre_key bytea,
  pq_pre_key_id bigint, pq_pre_key bytea, pq_pre_key_signature bytea, pq_pre_key_is_last_resort boolean,
  log_index bigint, runs_low boolean, low_notified boolean, log_leaves bytea[])
language plpgsql volatile as $fn$
-- Claims come sorted by (target, device id), so every batch locks device rows in one order (the
-- order revocation deletes in too) and batches can't deadlock. Each claim is answered by rows:
-- 'limited' (its rate limit refused it), 'blocked', 'none' (no device with keys) or one 'claimed'
-- row per device. A last row, 'log', holds the identity log's leaves from p_log_from on, read
-- after every device row, so every log index answered is among the leaves the caller then knows.
#variable_conflict use_column
declare
  n int := coalesce(array_length(p_targets, 1), 0);
  first int := 1;
  last int;
  j int;
  blocked uuid[];
  claimants int[];
  k int;
  d record;
  any_device boolean;
  low boolean;
  ec_ids bigint[]; ec_keys bytea[];
  pq_ids bigint[]; pq_keys bytea[]; pq_signatures bytea[];
begin
  while first <= n loop
    last := first;
    while last < n and p_targets[last + 1] = p_targets[first] and p_device_ids[last + 1] = p_device_ids[first] loop
      last := last + 1;
    end loop;
    -- Same answer whichever side blocked: the requester learns nothing about who did.
    select coalesce(array_agg(case when b.blocker_id = p_targets[first] then b.blocked_id else b.blocker_id end), '{}') into blocked
      from block_projection b
     where b.active
       and ((b.blocker_id = p_targets[first] and b.blocked_id = any(p_requesters[first:last]))
         or (b.blocked_id = p_targets[first] and b.blocker_id = any(p_requesters[first:last])));
    claimants := '{}';
    for j in first .. last loop
      if not p_allowed[j] then
        return query select j, 'limited', null::smallint, null::int, null::bytea, null::bigint, null::bytea, null::bytea, null::bigint, null::bytea,
                            null::bigint, null::bytea, null::bytea, null::boolean, null::bigint, null::boolean, null::boolean, null::bytea[];
      elsif p_requesters[j] = any(blocked) then
        return query select j, 'blocked', null::smallint, null::int, null::bytea, null::bigint, null::bytea, null::bytea, null::bigint, null::bytea,
                            null::bigint, null::bytea, null::bytea, null::boolean, null::bigint, null::boolean, null::boolean, null::bytea[];
      else
        claimants := claimants || j;
      end if;
    end loop;
    k := coalesce(array_length(claimants, 1), 0);
    if k > 0 then
      any_device := false;
      -- Claims of one device take turns on its row: a claim finds "none left" only when none is
      -- left, and its EC and Kyber keys come from the same state, so both kinds run out together.
      for d in
        select dk.*, p.registration_id as registration from device_keys dk
          join device_projection p on p.user_id = dk.user_id and p.device_id = dk.device_id and p.active
         where dk.user_id = p_targets[first] and (p_device_ids[first] = 0 or dk.device_id = p_device_ids[first])
         order by dk.device_id
           for update of dk
      loop
        any_device := true;
        -- The k lowest keys of each kind, one per claimant in order, as k claims one after another would take them.
        with picked as (
          select x.key_id from ec_pre_key x where x.user_id = d.user_id and x.device_id = d.device_id order by x.key_id limit k for update skip locked),
        taken as (
          delete from ec_pre_key e using picked where e.user_id = d.user_id and e.device_id = d.device_id and e.key_id = picked.key_id
          returning e.key_id, e.public_key)
        select array_agg(t.key_id order by t.key_id), array_agg(t.public_key order by t.key_id) into ec_ids, ec_keys from taken t;
        with picked as (
          select x.key_id from kyber_pre_key x where x.user_id = d.user_id and x.device_id = d.device_id order by x.key_id limit k for update skip locked),
        taken as (
          delete from kyber_pre_key e using picked where e.user_id = d.user_id and e.device_id = d.device_id and e.key_id = picked.key_id
          returning e.key_id, e.public_key, e.signature)
        select array_agg(t.key_id order by t.key_id), array_agg(t.public_key order by t.key_id), array_agg(t.signature order by t.key_id)
          into pq_ids, pq_keys, pq_signatures from taken t;
        -- Whether either kind is now below the mark: counting up to it is enough to know.
        low := (select count(*) from (select 1 from ec_pre_key x where x.user_id = d.user_id and x.device_id = d.device_id limit p_low_water_mark) s) < p_low_water_mark
            or (select count(*) from (select 1 from kyber_pre_key x where x.user_id = d.user_id and x.device_id = d.device_id limit p_low_water_mark) s) < p_low_water_mark;
        for j in 1 .. k loop
          return query select claimants[j], 'claimed', d.device_id, d.registration, d.identity_key,
                              d.signed_pre_key_id, d.signed_pre_key, d.signed_pre_key_signature,
                              ec_ids[j], ec_keys[j],
                              coalesce(pq_ids[j], d.last_resort_key_id), coalesce(pq_keys[j], d.last_resort_key),
                              coalesce(pq_signatures[j], d.last_resort_signature), pq_ids[j] is null,
                              d.log_index, low, d.low_notified, null::bytea[];
        end loop;
      end loop;
      if not any_device then
        return query select c, 'none', null::smallint, null::int, null::bytea, null::bigint, null::bytea, null::bytea, null::bigint, null::bytea,
                            null::bigint, null::bytea, null::bytea, null::boolean, null::bigint, null::boolean, null::boolean, null::bytea[]
                       from unnest(claimants) c;
      end if;
    end if;
    first := last + 1;
  end loop;
  return query select null::int, 'log', null::smallint, null::int, null::bytea, null::bigint, null::bytea, null::bytea, null::bigint, null::bytea,
                      null::bigint, null::bytea, null::bytea, null::boolean, null::bigint, null::boolean, null::boolean,
                      coalesce((select array_agg(l.leaf_hash order by l.leaf_index) from identity_log_entry l where l.leaf_index >= p_log_from), '{}');
end
$fn$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists claim_pre_key_bundles(uuid[], uuid[], smallint[], boolean[], int, bigint);');
  }
}
