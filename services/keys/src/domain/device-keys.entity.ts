import { BigIntType, EntitySchema } from '@mikro-orm/core';

/** Key ids are uint32, beyond PostgreSQL's integer: bigint, read back as a JS number. */
const bigintNumber = () => new BigIntType('number');

/**
 * One device's long-lived keys, byte for byte as libsignal serializes them: the identity key, the
 * signed EC prekey and the last-resort Kyber prekey, with the identity key's signatures.
 */
export interface DeviceKeys {
  userId: string;
  deviceId: number;
  identityKey: Buffer;
  signedPreKeyId: number;
  signedPreKey: Buffer;
  signedPreKeySignature: Buffer;
  lastResortKeyId: number;
  lastResortKey: Buffer;
  lastResortSignature: Buffer;
  /** Where the current identity key sits in the identity log (the only link from a user to the log). */
  logIndex: number;
  /** Set when keys.pre_keys.ran_low was announced; cleared when an upload lifts both counts to the mark. */
  lowNotified: boolean;
  updatedAt: Date;
}

export const DeviceKeysSchema = new EntitySchema<DeviceKeys>({
  name: 'DeviceKeys',
  tableName: 'device_keys',
  properties: {
    userId: { type: 'uuid', primary: true },
    deviceId: { type: 'smallint', primary: true },
    identityKey: { type: 'blob' },
    signedPreKeyId: { type: bigintNumber() },
    signedPreKey: { type: 'blob' },
    signedPreKeySignature: { type: 'blob' },
    lastResortKeyId: { type: bigintNumber() },
    lastResortKey: { type: 'blob' },
    lastResortSignature: { type: 'blob' },
    logIndex: { type: bigintNumber() },
    lowNotified: { type: 'boolean', default: false },
    updatedAt: { type: 'datetime' },
  },
});

/** A one-time EC prekey; claiming deletes it. */
export interface EcPreKey {
  userId: string;
  deviceId: number;
  keyId: number;
  publicKey: Buffer;
}

export const EcPreKeySchema = new EntitySchema<EcPreKey>({
  name: 'EcPreKey',
  tableName: 'ec_pre_key',
  properties: {
    userId: { type: 'uuid', primary: true },
    deviceId: { type: 'smallint', primary: true },
    keyId: { type: bigintNumber(), primary: true },
    publicKey: { type: 'blob' },
  },
});

/** A one-time Kyber prekey with its signature; claiming deletes it. */
export interface KyberPreKey {
  userId: string;
  deviceId: number;
  keyId: number;
  publicKey: Buffer;
  signature: Buffer;
}

export const KyberPreKeySchema = new EntitySchema<KyberPreKey>({
  name: 'KyberPreKey',
  tableName: 'kyber_pre_key',
  properties: {
    userId: { type: 'uuid', primary: true },
    deviceId: { type: 'smallint', primary: true },
    keyId: { type: bigintNumber(), primary: true },
    publicKey: { type: 'blob' },
    signature: { type: 'blob' },
  },
});
