import { randomInt } from 'node:crypto';
import { MAX_REGISTRATION_ID } from '@parley/platform/dist/limits/signal-ids.js';
import { CiphertextType, type PreKeyBundle as ParleyBundle } from '@parley/proto';
import {
  CiphertextMessageType,
  Fingerprint,
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
import type { Ciphertext, OneTimePreKeys, PeerDevice, PublicSignedPreKey, SignalCrypto, SignedPreKeys } from '../crypto.js';
import type { SqliteStore } from './sqlite-store.js';

/** libsignal wants byte arrays backed by a plain ArrayBuffer; protobuf-es and SQLite bytes may not be. */
const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);
const addressKey = (a: ProtocolAddress) => `${a.name()}.${a.deviceId()}`;

/** libsignal's message types as the wire names them. */
const WIRE_TYPES: [CiphertextMessageType, CiphertextType][] = [
  [CiphertextMessageType.PreKey, CiphertextType.PREKEY_SIGNAL],
  [CiphertextMessageType.Whisper, CiphertextType.SIGNAL],
];

interface StoredIdentity {
  publicKey: string;
  privateKey: string;
  registrationId: number;
}

interface RotatingKeys {
  signedPreKeyId: number;
  kyberPreKeyId: number;
  createdAt: number;
}

const IDENTITY = 'signal.identity';
const NEXT_KEY_ID = 'signal.nextKeyId';
const ROTATING = 'signal.rotating';
const LOCAL_ADDRESS = 'signal.localAddress';
/** Iterations and version of Signal's displayed safety numbers. */
const FINGERPRINT_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 2;

class Sessions extends SessionStore {
  constructor(private readonly db: SqliteStore) {
    super();
  }
  override async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.db.signal.prepare('INSERT INTO session VALUES (?, ?) ON CONFLICT (address) DO UPDATE SET record = excluded.record').run(addressKey(name), record.serialize());
  }
  override async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    const row = this.db.signal.prepare('SELECT record FROM session WHERE address = ?').get(addressKey(name)) as { record: Uint8Array } | undefined;
    return row ? SessionRecord.deserialize(bytes(row.record)) : null;
  }
  override async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    const records = await Promise.all(addresses.map((a) => this.getSession(a)));
    return records.map((r, i) => {
      if (!r) throw new Error(`no session with ${addresses[i]!.toString()}`);
      return r;
    });
  }
}

/** Trusts a peer's identity on first use; a different key later is accepted (Signal's default) and reported. */
class Identities extends IdentityKeyStore {
  constructor(
    private readonly db: SqliteStore,
    private readonly own: IdentityKeyPair,
    private readonly registrationId: number,
    private readonly changed: (peer: PeerDevice) => void,
  ) {
    super();
  }
  override async getIdentityKey(): Promise<PrivateKey> {
    return this.own.privateKey;
  }
  override async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  override async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const existing = await this.getIdentity(name);
    this.db.signal.prepare('INSERT INTO identity VALUES (?, ?) ON CONFLICT (address) DO UPDATE SET public_key = excluded.public_key').run(addressKey(name), key.serialize());
    if (existing && !existing.equals(key)) {
      this.changed({ userId: name.name(), deviceId: name.deviceId() });
      return IdentityChange.ReplacedExisting;
    }
    return IdentityChange.NewOrUnchanged;
  }
  override async isTrustedIdentity(): Promise<boolean> {
    return true;
  }
  override async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    const row = this.db.signal.prepare('SELECT public_key FROM identity WHERE address = ?').get(addressKey(name)) as { public_key: Uint8Array } | undefined;
    return row ? PublicKey.deserialize(bytes(row.public_key)) : null;
  }
}

class PreKeys extends PreKeyStore {
  constructor(private readonly db: SqliteStore) {
    super();
  }
  override async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.db.signal.prepare('INSERT OR REPLACE INTO pre_key VALUES (?, ?)').run(id, record.serialize());
  }
  override async getPreKey(id: number): Promise<PreKeyRecord> {
    const row = this.db.signal.prepare('SELECT record FROM pre_key WHERE id = ?').get(id) as { record: Uint8Array } | undefined;
    if (!row) throw new Error(`no one-time prekey ${id}`);
    return PreKeyRecord.deserialize(bytes(row.record));
  }
  override async removePreKey(id: number): Promise<void> {
    this.db.signal.prepare('DELETE FROM pre_key WHERE id = ?').run(id);
  }
}

/** Old signed prekeys stay: a message started with one before a rotation must still decrypt. */
class SignedPreKeys_ extends SignedPreKeyStore {
  constructor(private readonly db: SqliteStore) {
    super();
  }
  override async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.db.signal.prepare('INSERT OR REPLACE INTO signed_pre_key VALUES (?, ?)').run(id, record.serialize());
  }
  override async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const row = this.db.signal.prepare('SELECT record FROM signed_pre_key WHERE id = ?').get(id) as { record: Uint8Array } | undefined;
    if (!row) throw new Error(`no signed prekey ${id}`);
    return SignedPreKeyRecord.deserialize(bytes(row.record));
  }
}

/** One-time Kyber prekeys are deleted once used; last-resort ones stay. */
class KyberPreKeys extends KyberPreKeyStore {
  constructor(private readonly db: SqliteStore) {
    super();
  }
  save(id: number, record: KyberPreKeyRecord, lastResort: boolean): void {
    this.db.signal.prepare('INSERT OR REPLACE INTO kyber_pre_key VALUES (?, ?, ?)').run(id, record.serialize(), lastResort ? 1 : 0);
  }
  override async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.save(id, record, false);
  }
  override async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const row = this.db.signal.prepare('SELECT record FROM kyber_pre_key WHERE id = ?').get(id) as { record: Uint8Array } | undefined;
    if (!row) throw new Error(`no Kyber prekey ${id}`);
    return KyberPreKeyRecord.deserialize(bytes(row.record));
  }
  override async markKyberPreKeyUsed(id: number): Promise<void> {
    this.db.signal.prepare('DELETE FROM kyber_pre_key WHERE id = ? AND last_resort = 0').run(id);
  }
}

/**
 * SignalCrypto on the official @signalapp/libsignal-client, its stores in a SqliteStore: the
 * identity is made on first open and kept, so a profile is the same device across runs.
 */
export class LibsignalCrypto implements SignalCrypto {
  private readonly identity: IdentityKeyPair;
  private readonly regId: number;
  private readonly sessions: Sessions;
  private readonly identities: Identities;
  private readonly preKeys: PreKeys;
  private readonly signedPreKeys: SignedPreKeys_;
  private readonly kyberPreKeys: KyberPreKeys;
  private readonly identityListeners: ((peer: PeerDevice) => void)[] = [];

  constructor(private readonly db: SqliteStore) {
    let stored = db.getSignalValue<StoredIdentity>(IDENTITY);
    if (!stored) {
      const fresh = IdentityKeyPair.generate();
      stored = {
        publicKey: Buffer.from(fresh.publicKey.serialize()).toString('base64'),
        privateKey: Buffer.from(fresh.privateKey.serialize()).toString('base64'),
        registrationId: 1 + randomInt(MAX_REGISTRATION_ID),
      };
      db.setSignalValue(IDENTITY, stored);
    }
    this.identity = new IdentityKeyPair(PublicKey.deserialize(bytes(Buffer.from(stored.publicKey, 'base64'))), PrivateKey.deserialize(bytes(Buffer.from(stored.privateKey, 'base64'))));
    this.regId = stored.registrationId;
    this.sessions = new Sessions(db);
    this.identities = new Identities(db, this.identity, this.regId, (peer) => this.identityListeners.forEach((l) => l(peer)));
    this.preKeys = new PreKeys(db);
    this.signedPreKeys = new SignedPreKeys_(db);
    this.kyberPreKeys = new KyberPreKeys(db);
  }

  identityKey(): Uint8Array {
    return this.identity.publicKey.serialize();
  }
  registrationId(): number {
    return this.regId;
  }

  async generateSignedPreKeys(now: number): Promise<SignedPreKeys> {
    const key = PrivateKey.generate();
    const signed = SignedPreKeyRecord.new(this.nextKeyId(), now, key.getPublicKey(), key, this.sign(key.getPublicKey().serialize()));
    await this.signedPreKeys.saveSignedPreKey(signed.id(), signed);
    const lastResort = this.kyberPreKey(now, true);
    this.db.setSignalValue(ROTATING, { signedPreKeyId: signed.id(), kyberPreKeyId: lastResort.id(), createdAt: now } satisfies RotatingKeys);
    return { signedPreKey: { keyId: signed.id(), publicKey: signed.publicKey().serialize(), signature: signed.signature() }, pqLastResortPreKey: signedKyber(lastResort), createdAt: now };
  }

  currentSignedPreKeys(): SignedPreKeys | undefined {
    const rotating = this.db.getSignalValue<RotatingKeys>(ROTATING);
    if (!rotating) return undefined;
    const signedRow = this.db.signal.prepare('SELECT record FROM signed_pre_key WHERE id = ?').get(rotating.signedPreKeyId) as { record: Uint8Array };
    const kyberRow = this.db.signal.prepare('SELECT record FROM kyber_pre_key WHERE id = ?').get(rotating.kyberPreKeyId) as { record: Uint8Array };
    const signed = SignedPreKeyRecord.deserialize(bytes(signedRow.record));
    return {
      signedPreKey: { keyId: signed.id(), publicKey: signed.publicKey().serialize(), signature: signed.signature() },
      pqLastResortPreKey: signedKyber(KyberPreKeyRecord.deserialize(bytes(kyberRow.record))),
      createdAt: rotating.createdAt,
    };
  }

  async generateOneTimePreKeys(count: number, now: number): Promise<OneTimePreKeys> {
    const preKeys = [];
    const pqPreKeys = [];
    for (let i = 0; i < count; i++) {
      const key = PrivateKey.generate();
      const record = PreKeyRecord.new(this.nextKeyId(), key.getPublicKey(), key);
      await this.preKeys.savePreKey(record.id(), record);
      preKeys.push({ keyId: record.id(), publicKey: record.publicKey().serialize() });
      pqPreKeys.push(signedKyber(this.kyberPreKey(now, false)));
    }
    return { preKeys, pqPreKeys };
  }

  async startSession(userId: string, bundle: ParleyBundle): Promise<void> {
    const signed = bundle.signedPreKey;
    const kyber = bundle.pqPreKey;
    if (!signed || !kyber) throw new Error(`the bundle of ${userId}/${bundle.deviceId} lacks its signed prekeys`);
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
    await processPreKeyBundle(libsignalBundle, ProtocolAddress.new(userId, bundle.deviceId), this.ownAddress(), this.sessions, this.identities);
  }

  async sessionRegistrationId(peer: PeerDevice): Promise<number | undefined> {
    const session = await this.sessions.getSession(ProtocolAddress.new(peer.userId, peer.deviceId));
    return session?.hasCurrentState() ? session.remoteRegistrationId() : undefined;
  }

  async forgetSession(peer: PeerDevice): Promise<void> {
    this.db.signal.prepare('DELETE FROM session WHERE address = ?').run(addressKey(ProtocolAddress.new(peer.userId, peer.deviceId)));
  }

  async encrypt(peer: PeerDevice, plaintext: Uint8Array): Promise<Ciphertext> {
    const message = await signalEncrypt(bytes(plaintext), ProtocolAddress.new(peer.userId, peer.deviceId), this.ownAddress(), this.sessions, this.identities);
    const wire = WIRE_TYPES.find(([t]) => t === message.type());
    if (!wire) throw new Error(`libsignal made a message of type ${message.type()}, which Parley does not carry`);
    return { type: wire[1], ciphertext: message.serialize() };
  }

  async decrypt(peer: PeerDevice, message: Ciphertext): Promise<Uint8Array> {
    const from = ProtocolAddress.new(peer.userId, peer.deviceId);
    if (message.type === CiphertextType.PREKEY_SIGNAL) {
      return signalDecryptPreKey(
        PreKeySignalMessage.deserialize(bytes(message.ciphertext)),
        from,
        this.ownAddress(),
        this.sessions,
        this.identities,
        this.preKeys,
        this.signedPreKeys,
        this.kyberPreKeys,
      );
    }
    if (message.type === CiphertextType.SIGNAL) return signalDecrypt(SignalMessage.deserialize(bytes(message.ciphertext)), from, this.ownAddress(), this.sessions, this.identities);
    throw new Error(`cannot decrypt a message of type ${CiphertextType[message.type]}`);
  }

  async peerIdentityKey(peer: PeerDevice): Promise<Uint8Array | undefined> {
    return (await this.identities.getIdentity(ProtocolAddress.new(peer.userId, peer.deviceId)))?.serialize();
  }

  async safetyNumber(localUserId: string, peer: PeerDevice): Promise<string> {
    const remote = await this.identities.getIdentity(ProtocolAddress.new(peer.userId, peer.deviceId));
    if (!remote) throw new Error(`no identity key of ${peer.userId}/${peer.deviceId} yet: exchange a message first`);
    const utf8 = (s: string) => bytes(new TextEncoder().encode(s));
    return Fingerprint.new(FINGERPRINT_ITERATIONS, FINGERPRINT_VERSION, utf8(localUserId), this.identity.publicKey, utf8(peer.userId), remote)
      .displayableFingerprint()
      .toString();
  }

  onIdentityChanged(listener: (peer: PeerDevice) => void): void {
    this.identityListeners.push(listener);
  }

  atomically<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.atomically(fn);
  }

  setLocalAddress(device: PeerDevice): void {
    this.db.setSignalValue(LOCAL_ADDRESS, device);
  }

  private ownAddress(): ProtocolAddress {
    const local = this.db.getSignalValue<PeerDevice>(LOCAL_ADDRESS);
    if (!local) throw new Error('this device has no account yet: register, log in or link first');
    return ProtocolAddress.new(local.userId, local.deviceId);
  }

  private sign(serializedPublicKey: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    return this.identity.privateKey.sign(serializedPublicKey);
  }

  private nextKeyId(): number {
    const next = this.db.getSignalValue<number>(NEXT_KEY_ID) ?? 1;
    this.db.setSignalValue(NEXT_KEY_ID, next + 1);
    return next;
  }

  private kyberPreKey(now: number, lastResort: boolean): KyberPreKeyRecord {
    const pair = KEMKeyPair.generate();
    const record = KyberPreKeyRecord.new(this.nextKeyId(), now, pair, this.sign(pair.getPublicKey().serialize()));
    this.kyberPreKeys.save(record.id(), record, lastResort);
    return record;
  }
}

function signedKyber(record: KyberPreKeyRecord): PublicSignedPreKey {
  return { keyId: record.id(), publicKey: record.publicKey().serialize(), signature: record.signature() };
}
