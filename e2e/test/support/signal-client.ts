import { create } from '@bufbuild/protobuf';
import { UploadKeysRequestSchema, type PreKeyBundle as ParleyPreKeyBundle, type UploadKeysRequest } from '@parley/proto';
import type { DeviceIdentity } from '@parley/testing';
import {
  CiphertextMessageType,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignalMessage,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';

/**
 * A libsignal client for tests: one device's identity, in-memory stores and key generation, used
 * exactly as an app would use @signalapp/libsignal-client against Parley's key directory.
 */

/** libsignal wants its byte arrays backed by a plain ArrayBuffer; protobuf-es bytes may not be. */
const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

const must = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`no ${what}`);
  return value;
};

class MemorySessionStore extends SessionStore {
  private readonly sessions = new Map<string, Uint8Array<ArrayBuffer>>();
  override async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.sessions.set(name.toString(), record.serialize());
  }
  override async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    const serialized = this.sessions.get(name.toString());
    return serialized ? SessionRecord.deserialize(serialized) : null;
  }
  override async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return Promise.all(addresses.map(async (a) => must((await this.getSession(a)) ?? undefined, `session with ${a.toString()}`)));
  }
}

/** Trusts an identity on first use and refuses a different one afterwards. */
class MemoryIdentityKeyStore extends IdentityKeyStore {
  private readonly known = new Map<string, PublicKey>();
  constructor(
    private readonly identity: IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super();
  }
  override async getIdentityKey(): Promise<PrivateKey> {
    return this.identity.privateKey;
  }
  override async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  override async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const existing = this.known.get(name.toString());
    this.known.set(name.toString(), key);
    return existing && !existing.equals(key) ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged;
  }
  override async isTrustedIdentity(name: ProtocolAddress, key: PublicKey): Promise<boolean> {
    const existing = this.known.get(name.toString());
    return !existing || existing.equals(key);
  }
  override async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return this.known.get(name.toString()) ?? null;
  }
}

class MemoryPreKeyStore extends PreKeyStore {
  readonly records = new Map<number, PreKeyRecord>();
  override async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.records.set(id, record);
  }
  override async getPreKey(id: number): Promise<PreKeyRecord> {
    return must(this.records.get(id), `one-time prekey ${id}`);
  }
  override async removePreKey(id: number): Promise<void> {
    this.records.delete(id);
  }
}

class MemorySignedPreKeyStore extends SignedPreKeyStore {
  readonly records = new Map<number, SignedPreKeyRecord>();
  override async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.records.set(id, record);
  }
  override async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    return must(this.records.get(id), `signed prekey ${id}`);
  }
}

/** One-time Kyber prekeys are deleted once used; the last-resort one stays. */
class MemoryKyberPreKeyStore extends KyberPreKeyStore {
  readonly records = new Map<number, KyberPreKeyRecord>();
  readonly lastResort = new Set<number>();
  override async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.records.set(id, record);
  }
  override async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    return must(this.records.get(id), `Kyber prekey ${id}`);
  }
  override async markKyberPreKeyUsed(id: number): Promise<void> {
    if (!this.lastResort.has(id)) this.records.delete(id);
  }
}

export interface GeneratedKeys {
  /** One-time EC prekeys to generate. */
  preKeys?: number;
  /** One-time Kyber prekeys to generate. */
  pqPreKeys?: number;
}

export interface Ciphertext {
  type: CiphertextMessageType;
  body: Uint8Array<ArrayBuffer>;
}

/** One device of a Parley user, holding its own libsignal keys and sessions. */
export class SignalDevice {
  readonly identity: IdentityKeyPair;
  readonly address: ProtocolAddress;
  readonly sessions = new MemorySessionStore();
  readonly identities: MemoryIdentityKeyStore;
  readonly preKeys = new MemoryPreKeyStore();
  readonly signedPreKeys = new MemorySignedPreKeyStore();
  readonly kyberPreKeys = new MemoryKyberPreKeyStore();
  private nextKeyId = 1;

  constructor(
    userId: string,
    deviceId: number,
    readonly registrationId: number,
    /** The identity the device stated when it linked, if it did; else a fresh one. */
    stated?: DeviceIdentity,
  ) {
    this.identity = stated
      ? new IdentityKeyPair(PublicKey.deserialize(Uint8Array.from(stated.publicKey)), PrivateKey.deserialize(Uint8Array.from(stated.privateKey)))
      : IdentityKeyPair.generate();
    this.address = ProtocolAddress.new(userId, deviceId);
    this.identities = new MemoryIdentityKeyStore(this.identity, registrationId);
  }

  /** The identity key's XEdDSA signature over a public key as libsignal serializes it. */
  sign(serializedPublicKey: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    return this.identity.privateKey.sign(serializedPublicKey);
  }

  /**
   * Generates a signed prekey, a last-resort Kyber prekey and the one-time prekeys asked for, keeps
   * their private halves, and returns the UploadKeysRequest that publishes them.
   */
  uploadRequest(counts: GeneratedKeys = {}): UploadKeysRequest {
    const now = Date.now();
    const signedKey = PrivateKey.generate();
    const signedPub = signedKey.getPublicKey().serialize();
    const signed = SignedPreKeyRecord.new(this.nextKeyId++, now, signedKey.getPublicKey(), signedKey, this.sign(signedPub));
    this.signedPreKeys.records.set(signed.id(), signed);

    const lastResort = this.kyberPreKey(now);
    this.kyberPreKeys.lastResort.add(lastResort.id());

    const preKeys = Array.from({ length: counts.preKeys ?? 0 }, () => {
      const key = PrivateKey.generate();
      const record = PreKeyRecord.new(this.nextKeyId++, key.getPublicKey(), key);
      this.preKeys.records.set(record.id(), record);
      return { keyId: record.id(), publicKey: record.publicKey().serialize() };
    });
    const pqPreKeys = Array.from({ length: counts.pqPreKeys ?? 0 }, () => signedKyber(this.kyberPreKey(now)));

    return create(UploadKeysRequestSchema, {
      identityKey: this.identity.publicKey.serialize(),
      signedPreKey: { keyId: signed.id(), publicKey: signedPub, signature: signed.signature() },
      pqLastResortPreKey: signedKyber(lastResort),
      preKeys,
      pqPreKeys,
    });
  }

  private kyberPreKey(now: number): KyberPreKeyRecord {
    const pair = KEMKeyPair.generate();
    const record = KyberPreKeyRecord.new(this.nextKeyId++, now, pair, this.sign(pair.getPublicKey().serialize()));
    this.kyberPreKeys.records.set(record.id(), record);
    return record;
  }

  /** Starts a PQXDH session with the device a Parley bundle describes; libsignal checks its signatures. */
  async processBundle(userId: string, bundle: ParleyPreKeyBundle): Promise<ProtocolAddress> {
    const signed = must(bundle.signedPreKey, 'signed prekey in the bundle');
    const kyber = must(bundle.pqPreKey, 'Kyber prekey in the bundle');
    const remote = ProtocolAddress.new(userId, bundle.deviceId);
    const libsignalBundle = PreKeyBundle.new(
      bundle.registrationId,
      bundle.deviceId,
      bundle.preKey ? bundle.preKey.keyId : null,
      bundle.preKey ? PublicKey.deserialize(bytes(bundle.preKey.publicKey)) : null,
      signed.keyId,
      PublicKey.deserialize(bytes(signed.publicKey)),
      bytes(signed.signature),
      PublicKey.deserialize(bytes(bundle.identityKey)),
      kyber.keyId,
      KEMPublicKey.deserialize(bytes(kyber.publicKey)),
      bytes(kyber.signature),
    );
    await processPreKeyBundle(libsignalBundle, remote, this.address, this.sessions, this.identities);
    return remote;
  }

  /** Encrypts text, or bytes (e.g. franked content: the franking key, then the plaintext). */
  async encrypt(to: ProtocolAddress, plaintext: string | Uint8Array): Promise<Ciphertext> {
    const raw = typeof plaintext === 'string' ? new TextEncoder().encode(plaintext) : plaintext;
    const message = await signalEncrypt(bytes(raw), to, this.address, this.sessions, this.identities);
    return { type: message.type(), body: message.serialize() };
  }

  async decrypt(from: ProtocolAddress, ciphertext: Ciphertext): Promise<string> {
    return new TextDecoder().decode(await this.decryptBytes(from, ciphertext));
  }

  async decryptBytes(from: ProtocolAddress, ciphertext: Ciphertext): Promise<Uint8Array> {
    if (ciphertext.type !== CiphertextMessageType.PreKey) {
      return signalDecrypt(SignalMessage.deserialize(ciphertext.body), from, this.address, this.sessions, this.identities);
    }
    const message = PreKeySignalMessage.deserialize(ciphertext.body);
    return signalDecryptPreKey(message, from, this.address, this.sessions, this.identities, this.preKeys, this.signedPreKeys, this.kyberPreKeys);
  }
}

function signedKyber(record: KyberPreKeyRecord): { keyId: number; publicKey: Uint8Array; signature: Uint8Array } {
  return { keyId: record.id(), publicKey: record.publicKey().serialize(), signature: record.signature() };
}
