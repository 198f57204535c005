import type { EntityManager } from '@mikro-orm/postgresql';
import { events, rpcError, type Caller } from '@parley/platform';
import type { KeysDeps } from '../deps.js';
import { DeviceKeysSchema, EcPreKeySchema, KyberPreKeySchema, type DeviceKeys } from './device-keys.entity.js';
import { preKeyCounts, type PreKeyCounts } from './prekey-counts.js';
import { parseUploadInput, type UploadInput, type UploadKeysRequestLike } from './upload-input.js';

export interface UploadResult {
  counts: PreKeyCounts;
  identityChanged: boolean;
}

/**
 * Stores the calling device's keys. Uploads of one device are serialized on its device_projection
 * row, which also proves the device exists and is not revoked. A new identity key drops every
 * prekey signed by the old one, is appended to the identity log and announced; a device may change
 * it only a few times a day (each change is a permanent log leaf).
 */
export async function uploadKeys(deps: KeysDeps, caller: Caller, req: UploadKeysRequestLike): Promise<UploadResult> {
  // Before the input is parsed: parsing checks every signature, the costly part the limit is for.
  await deps.rateLimits.uploadsPerCaller.enforce(caller.userId, 'too many key uploads');
  const input = parseUploadInput(req, deps.settings.maxPreKeysPerUpload);
  const { userId, deviceId } = caller;
  return (deps.orm.em.fork() as EntityManager).transactional(async (em) => {
    const [device] = (await em.execute('select active, linked_identity_key from device_projection where user_id = ? and device_id = ? for update', [
      userId,
      deviceId,
    ])) as { active: boolean; linked_identity_key: Buffer | null }[];
    if (!device) throw rpcError.failedPrecondition('device not known yet; retry shortly');
    if (!device.active) throw rpcError.failedPrecondition('this device has been revoked');
    const current = await em.findOne(DeviceKeysSchema, { userId, deviceId }, { disableIdentityMap: true });
    // A linked device's first identity key is the one its owner approved, so whoever else redeemed a link code can't publish another.
    if (current === null && device.linked_identity_key && !device.linked_identity_key.equals(input.identityKey)) {
      throw rpcError.failedPrecondition('identity_key is not the key this device stated when it linked (LinkDevice): upload that key');
    }
    const identityChanged = current !== null && !current.identityKey.equals(input.identityKey);
    const fresh = current === null || identityChanged;
    if (fresh && (!input.signedPreKey || !input.lastResort)) {
      throw rpcError.invalidArgument(
        current === null
          ? 'the first upload needs identity_key, signed_pre_key and pq_last_resort_pre_key'
          : 'a new identity_key needs a new signed_pre_key and pq_last_resort_pre_key in the same upload',
      );
    }
    if (identityChanged) {
      await requireIdentityChangeAllowed(em, deps, caller);
      // Signed by the old identity key: a peer would reject them.
      await em.nativeDelete(EcPreKeySchema, { userId, deviceId });
      await em.nativeDelete(KyberPreKeySchema, { userId, deviceId });
      deps.outbox.add(em, events.identityKeyChanged, { userId, deviceId, identityKey: input.identityKey });
    }
    await requireNewIds(em, caller, input);
    await requireRoom(em, caller, input, deps.settings.maxStoredPreKeys);

    const logIndex = fresh ? await deps.identityLog.append(em, userId, deviceId, input.identityKey) : current!.logIndex;
    const signed = input.signedPreKey ?? { keyId: current!.signedPreKeyId, publicKey: current!.signedPreKey, signature: current!.signedPreKeySignature };
    const lastResort = input.lastResort ?? { keyId: current!.lastResortKeyId, publicKey: current!.lastResortKey, signature: current!.lastResortSignature };
    const row: DeviceKeys = {
      userId,
      deviceId,
      identityKey: input.identityKey,
      signedPreKeyId: signed.keyId,
      signedPreKey: signed.publicKey,
      signedPreKeySignature: signed.signature,
      lastResortKeyId: lastResort.keyId,
      lastResortKey: lastResort.publicKey,
      lastResortSignature: lastResort.signature,
      logIndex,
      lowNotified: current?.lowNotified ?? false,
      updatedAt: new Date(),
    };
    if (input.preKeys.length) await em.insertMany(EcPreKeySchema, input.preKeys.map((k) => ({ userId, deviceId, ...k })));
    if (input.pqPreKeys.length) await em.insertMany(KyberPreKeySchema, input.pqPreKeys.map((k) => ({ userId, deviceId, ...k })));
    const counts = await preKeyCounts(em, userId, deviceId);
    // Back at the mark or above: the next fall below it is a new crossing, announced again.
    if (counts.preKeys >= deps.settings.lowWaterMark && counts.pqPreKeys >= deps.settings.lowWaterMark) row.lowNotified = false;
    await em.upsert(DeviceKeysSchema, row, { disableIdentityMap: true });
    return { counts, identityChanged };
  });
}

/** Takes one of the device's identity-key changes in the upload's transaction, so a failed upload spends none. */
async function requireIdentityChangeAllowed(em: EntityManager, deps: KeysDeps, { userId, deviceId }: Caller): Promise<void> {
  const limiter = deps.rateLimits.identityKeyChangesPerDevice;
  const subject = `${userId}:${deviceId}`;
  const decision = await limiter.take(subject, 1, em);
  if (!decision.allowed) throw rpcError.resourceExhausted(`too many identity key changes for this device; retry in ${decision.retryAfterSeconds} s`);
}

/** Key ids must be new among the device's stored keys of the same kind (ALREADY_EXISTS otherwise). */
async function requireNewIds(em: EntityManager, { userId, deviceId }: Caller, input: UploadInput): Promise<void> {
  const stored = async (table: string, ids: number[]) =>
    ids.length === 0
      ? new Set<number>()
      : new Set(
          ((await em.execute(`select key_id from ${table} where user_id = ? and device_id = ? and key_id in (?)`, [userId, deviceId, ids])) as {
            key_id: string;
          }[]).map((r) => Number(r.key_id)),
        );
  const ec = await stored('ec_pre_key', input.preKeys.map((k) => k.keyId));
  input.preKeys.forEach(({ keyId }, i) => {
    if (ec.has(keyId)) throw rpcError.alreadyExists(`pre_keys[${i}]: key id ${keyId} is already stored for this device`);
  });
  const kyberIds = input.pqPreKeys.map((k) => k.keyId);
  const kyber = await stored('kyber_pre_key', input.lastResort ? [...kyberIds, input.lastResort.keyId] : kyberIds);
  input.pqPreKeys.forEach(({ keyId }, i) => {
    if (kyber.has(keyId)) throw rpcError.alreadyExists(`pq_pre_keys[${i}]: key id ${keyId} is already stored for this device`);
  });
  if (input.lastResort && kyber.has(input.lastResort.keyId)) {
    throw rpcError.alreadyExists(`pq_last_resort_pre_key: key id ${input.lastResort.keyId} is already stored for this device as a one-time Kyber prekey`);
  }
  if (!input.lastResort && input.pqPreKeys.length) {
    const [row] = (await em.execute('select last_resort_key_id from device_keys where user_id = ? and device_id = ?', [userId, deviceId])) as {
      last_resort_key_id: string;
    }[];
    const i = row ? kyberIds.indexOf(Number(row.last_resort_key_id)) : -1;
    if (i >= 0) throw rpcError.alreadyExists(`pq_pre_keys[${i}]: key id ${kyberIds[i]} is the device's last-resort Kyber prekey`);
  }
}

/** Stored one-time prekeys of each kind stay within MAX_STORED_PRE_KEYS. */
async function requireRoom(em: EntityManager, { userId, deviceId }: Caller, input: UploadInput, max: number): Promise<void> {
  const counts = await preKeyCounts(em, userId, deviceId);
  const check = (have: number, adding: number, what: string) => {
    if (adding > 0 && have + adding > max) {
      throw rpcError.resourceExhausted(`this device would hold ${have + adding} one-time ${what} prekeys; at most ${max} may be stored`);
    }
  };
  check(counts.preKeys, input.preKeys.length, 'EC');
  check(counts.pqPreKeys, input.pqPreKeys.length, 'Kyber');
}
