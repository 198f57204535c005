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
  SignedPreKeyRecord,
  SignedPreKeyStore,
  processPreKeyBundle,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import type { PreKeyBundle as WireBundle } from '@parley/proto';
import type { DeviceIdentity } from '@parley/testing';

/** libsignal wants plain-ArrayBuffer byte arrays; protobuf-es bytes may be views. */
const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

class Sessions extends SessionStore {
  private readonly map = new Map<string, Uint8Array<ArrayBuffer>>();
  override async saveSession(a: ProtocolAddress, r: SessionRecord) {
    this.map.set(a.toString(), r.serialize());
  }
  override async getSession(a: ProtocolAddress) {
    const s = this.map.get(a.toString());
    return s ? SessionRecord.deserialize(s) : null;
  }
  override async getExistingSessions(as: ProtocolAddress[]) {
    return Promise.all(as.map(async (a) => (await this.getSession(a))!));
  }
}

class Identities extends IdentityKeyStore {
  private readonly known = new Map<string, PublicKey>();
  constructor(
    private readonly pair: IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super();
  }
  override async getIdentityKey() {
    return this.pair.privateKey;
  }
  override async getLocalRegistrationId() {
    return this.registrationId;
  }
  override async saveIdentity(a: ProtocolAddress, key: PublicKey) {
    const old = this.known.get(a.toString());
    this.known.set(a.toString(), key);
    return old && !old.equals(key) ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged;
  }
  override async isTrustedIdentity(a: ProtocolAddress, key: PublicKey) {
    const old = this.known.get(a.toString());
    return !old || old.equals(key);
  }
  override async getIdentity(a: ProtocolAddress) {
    return this.known.get(a.toString()) ?? null;
  }
}

class PreKeys extends PreKeyStore {
  readonly map = new Map<number, PreKeyRecord>();
  override async savePreKey(id: number, r: PreKeyRecord) {
    this.map.set(id, r);
  }
  override async getPreKey(id: number) {
    return this.map.get(id)!;
  }
  override async removePreKey(id: number) {
    this.map.delete(id);
  }
}

class SignedPreKeys extends SignedPreKeyStore {
  readonly map = new Map<number, SignedPreKeyRecord>();
  override async saveSignedPreKey(id: number, r: SignedPreKeyRecord) {
    this.map.set(id, r);
  }
  override async getSignedPreKey(id: number) {
    return this.map.get(id)!;
  }
}

class KyberPreKeys extends KyberPreKeyStore {
  readonly map = new Map<number, KyberPreKeyRecord>();
  override async saveKyberPreKey(id: number, r: KyberPreKeyRecord) {
    this.map.set(id, r);
  }
  override async getKyberPreKey(id: number) {
    return this.map.get(id)!;
  }
  override async markKyberPreKeyUsed() {}
}

/** A libsignal identity key pair from its raw parts. */
export function identityKeyPairOf({ publicKey, privateKey }: DeviceIdentity): IdentityKeyPair {
  return new IdentityKeyPair(PublicKey.deserialize(Uint8Array.from(publicKey)), PrivateKey.deserialize(Uint8Array.from(privateKey)));
}

export interface WireSignedKey {
  keyId: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

/**
 * One libsignal device as an app runs it: an identity, in-memory stores, and keys made and signed
 * by @signalapp/libsignal-client itself, so whatever Parley stores is what libsignal produced.
 */
export class SignalDevice {
  identity = IdentityKeyPair.generate();
  readonly sessions = new Sessions();
  readonly preKeys = new PreKeys();
  readonly signedPreKeys = new SignedPreKeys();
  readonly kyberPreKeys = new KyberPreKeys();
  private nextId = 1;

  constructor(
    readonly userId: string,
    readonly deviceId: number,
    readonly registrationId: number,
    /** The identity the device stated when it linked, if it did; else a fresh one. */
    stated?: DeviceIdentity,
  ) {
    if (stated) this.identity = identityKeyPairOf(stated);
  }

  get address(): ProtocolAddress {
    return ProtocolAddress.new(this.userId, this.deviceId);
  }

  get identityKey(): Uint8Array {
    return this.identity.publicKey.serialize();
  }

  private identities = new Map<IdentityKeyPair, Identities>();
  get identityStore(): Identities {
    let store = this.identities.get(this.identity);
    if (!store) this.identities.set(this.identity, (store = new Identities(this.identity, this.registrationId)));
    return store;
  }

  sign(publicKey: Uint8Array): Uint8Array {
    return this.identity.privateKey.sign(bytes(publicKey));
  }

  signedPreKey(keyId = this.nextId++): WireSignedKey {
    const priv = PrivateKey.generate();
    const publicKey = priv.getPublicKey().serialize();
    const signature = this.sign(publicKey);
    this.signedPreKeys.map.set(keyId, SignedPreKeyRecord.new(keyId, Date.now(), priv.getPublicKey(), priv, bytes(signature)));
    return { keyId, publicKey, signature };
  }

  kyberPreKey(keyId = this.nextId++): WireSignedKey {
    const pair = KEMKeyPair.generate();
    const publicKey = pair.getPublicKey().serialize();
    const signature = this.sign(publicKey);
    this.kyberPreKeys.map.set(keyId, KyberPreKeyRecord.new(keyId, Date.now(), pair, bytes(signature)));
    return { keyId, publicKey, signature };
  }

  preKey(keyId = this.nextId++): { keyId: number; publicKey: Uint8Array } {
    const priv = PrivateKey.generate();
    this.preKeys.map.set(keyId, PreKeyRecord.new(keyId, priv.getPublicKey(), priv));
    return { keyId, publicKey: priv.getPublicKey().serialize() };
  }

  /** A full first upload: identity, signed prekey, last-resort Kyber prekey and one-time keys. */
  firstUpload(preKeys = 0, pqPreKeys = 0) {
    return {
      identityKey: this.identityKey,
      signedPreKey: this.signedPreKey(),
      pqLastResortPreKey: this.kyberPreKey(),
      preKeys: Array.from({ length: preKeys }, () => this.preKey()),
      pqPreKeys: Array.from({ length: pqPreKeys }, () => this.kyberPreKey()),
    };
  }

  /** Starts a session from a bundle Parley handed out, as libsignal's processPreKeyBundle does. */
  async startSession(userId: string, b: WireBundle): Promise<ProtocolAddress> {
    const remote = ProtocolAddress.new(userId, b.deviceId);
    const bundle = PreKeyBundle.new(
      b.registrationId,
      b.deviceId,
      b.preKey ? b.preKey.keyId : null,
      b.preKey ? PublicKey.deserialize(bytes(b.preKey.publicKey)) : null,
      b.signedPreKey!.keyId,
      PublicKey.deserialize(bytes(b.signedPreKey!.publicKey)),
      bytes(b.signedPreKey!.signature),
      PublicKey.deserialize(bytes(b.identityKey)),
      b.pqPreKey!.keyId,
      KEMPublicKey.deserialize(bytes(b.pqPreKey!.publicKey)),
      bytes(b.pqPreKey!.signature),
    );
    await processPreKeyBundle(bundle, remote, this.address, this.sessions, this.identityStore);
    return remote;
  }

  async encrypt(to: ProtocolAddress, text: string): Promise<Uint8Array> {
    const message = await signalEncrypt(bytes(new TextEncoder().encode(text)), to, this.address, this.sessions, this.identityStore);
    if (message.type() !== CiphertextMessageType.PreKey) throw new Error('expected a PreKey message');
    return message.serialize();
  }

  async decryptFirst(from: ProtocolAddress, body: Uint8Array): Promise<string> {
    const plain = await signalDecryptPreKey(
      PreKeySignalMessage.deserialize(bytes(body)),
      from,
      this.address,
      this.sessions,
      this.identityStore,
      this.preKeys,
      this.signedPreKeys,
      this.kyberPreKeys,
    );
    return new TextDecoder().decode(plain);
  }
}
