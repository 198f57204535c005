import type { EntityManager } from '@mikro-orm/postgresql';
import { events, rpcError, type Caller } from '@parley/platform';
import type { KeysDeps } from '../deps.js';
import type { LogSnapshot } from './identity-log.js';
import { preKeyCounts } from './prekey-counts.js';

export interface ClaimTarget {
  userId: string;
  /** 0 for every device of the user that has uploaded keys. */
  deviceId: number;
}

interface Key {
  keyId: number;
  publicKey: Buffer;
}
interface SignedKey extends Key {
  signature: Buffer;
}

export interface ClaimedBundle {
  deviceId: number;
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: SignedKey;
  pqPreKey: SignedKey;
  pqPreKeyIsLastResort: boolean;
  preKey?: Key;
  logIndex: number;
}

export interface ClaimResult {
  bundles: ClaimedBundle[];
  logSnapshot: LogSnapshot;
}

interface DeviceRow {
  device_id: number;
  registration_id: number;
  identity_key: Buffer;
  signed_pre_key_id: string;
  signed_pre_key: Buffer;
  signed_pre_key_signature: Buffer;
  last_resort_key_id: string;
  last_resort_key: Buffer;
  last_resort_signature: Buffer;
  log_index: string;
  low_notified: boolean;
}

export const BLOCKED_MESSAGE = "you can't fetch this user's keys";

/**
 * Claims a bundle per device, in one transaction. Each one-time key is taken by a single
 * DELETE … RETURNING whose row was picked FOR UPDATE SKIP LOCKED, so no key is handed out twice.
 * Claims of one device also lock its device_keys row (in device order, the order revocation
 * deletes in too): they take turns, so a claim gets "none left" only when none is left, and its
 * EC and Kyber keys come from the same state (per-kind SKIP LOCKED alone would let a claim get a
 * one-time Kyber key but no EC key while the last EC keys were being taken by other claims).
 */
export async function getPreKeyBundles(deps: KeysDeps, caller: Caller, target: ClaimTarget): Promise<ClaimResult> {
  const em = deps.orm.em.fork() as EntityManager;
  const bundles = await em.transactional(async (tx) => {
    const blocks = await tx.execute(
      `select 1 from block_projection
        where active and ((blocker_id = ? and blocked_id = ?) or (blocker_id = ? and blocked_id = ?))`,
      [caller.userId, target.userId, target.userId, caller.userId],
    );
    // Same answer whichever side blocked: the requester learns nothing about who did.
    if (blocks.length > 0) throw rpcError.permissionDenied(BLOCKED_MESSAGE);
    const devices = (await tx.execute(
      `select k.*, p.registration_id from device_keys k
         join device_projection p on p.user_id = k.user_id and p.device_id = k.device_id and p.active
        where k.user_id = ? ${target.deviceId ? 'and k.device_id = ?' : ''}
        order by k.device_id
          for update of k`,
      target.deviceId ? [target.userId, target.deviceId] : [target.userId],
    )) as DeviceRow[];
    if (devices.length === 0) {
      throw rpcError.notFound(
        target.deviceId ? `user ${target.userId} has no device ${target.deviceId} with keys` : `user ${target.userId} has no devices with keys`,
      );
    }
    const claimed: ClaimedBundle[] = [];
    for (const device of devices) claimed.push(await claimOne(deps, tx, target.userId, device));
    return claimed;
  });
  return { bundles, logSnapshot: await deps.identityLog.snapshot(em) };
}

async function claimOne(deps: KeysDeps, em: EntityManager, userId: string, d: DeviceRow): Promise<ClaimedBundle> {
  const take = (table: string, columns: string) =>
    em.execute(
      `delete from ${table}
        where (user_id, device_id, key_id) = (
          select user_id, device_id, key_id from ${table}
           where user_id = ? and device_id = ? order by key_id limit 1 for update skip locked)
        returning ${columns}`,
      [userId, d.device_id],
    ) as Promise<{ key_id: string; public_key: Buffer; signature?: Buffer }[]>;
  const [ec] = await take('ec_pre_key', 'key_id, public_key');
  const [kyber] = await take('kyber_pre_key', 'key_id, public_key, signature');

  const counts = await preKeyCounts(em, userId, d.device_id);
  const low = counts.preKeys < deps.settings.lowWaterMark || counts.pqPreKeys < deps.settings.lowWaterMark;
  if (low && !d.low_notified) {
    // The conditional update keeps the announcement to one per crossing even without the row lock.
    const flagged = await em.execute(
      'update device_keys set low_notified = true where user_id = ? and device_id = ? and not low_notified returning 1',
      [userId, d.device_id],
    );
    if (flagged.length > 0) deps.outbox.add(em, events.preKeysLow, { userId, deviceId: d.device_id, ...counts });
  }
  return {
    deviceId: d.device_id,
    registrationId: d.registration_id,
    identityKey: d.identity_key,
    signedPreKey: { keyId: Number(d.signed_pre_key_id), publicKey: d.signed_pre_key, signature: d.signed_pre_key_signature },
    pqPreKey: kyber
      ? { keyId: Number(kyber.key_id), publicKey: kyber.public_key, signature: kyber.signature! }
      : { keyId: Number(d.last_resort_key_id), publicKey: d.last_resort_key, signature: d.last_resort_signature },
    pqPreKeyIsLastResort: !kyber,
    preKey: ec && { keyId: Number(ec.key_id), publicKey: ec.public_key },
    logIndex: Number(d.log_index),
  };
}
