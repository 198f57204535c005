import type { CiphertextType, PreKeyBundle } from '@parley/proto';

/** A one-time EC prekey as uploaded. */
export interface PublicPreKey {
  keyId: number;
  publicKey: Uint8Array;
}

/** A signed EC or Kyber prekey as uploaded: the identity key's signature over the serialized public key. */
export interface PublicSignedPreKey extends PublicPreKey {
  signature: Uint8Array;
}

/** The keys that rotate together: the signed EC prekey and the last-resort Kyber prekey. */
export interface SignedPreKeys {
  signedPreKey: PublicSignedPreKey;
  pqLastResortPreKey: PublicSignedPreKey;
  /** When they were made, on the SDK's clock. */
  createdAt: number;
}

export interface OneTimePreKeys {
  preKeys: PublicPreKey[];
  pqPreKeys: PublicSignedPreKey[];
}

export interface Ciphertext {
  type: CiphertextType;
  ciphertext: Uint8Array;
}

/** Another user's device, as libsignal addresses it. */
export interface PeerDevice {
  userId: string;
  deviceId: number;
}

/**
 * Everything Signal: the SDK never implements the protocol itself, it calls this. The Node
 * implementation (`LibsignalCrypto` in `@parley/client/node`) runs the official
 * @signalapp/libsignal-client over persistent stores.
 */
export interface SignalCrypto {
  /** This device's identity public key as libsignal serializes it (33 bytes). */
  identityKey(): Uint8Array;
  /** This device's Signal registration id. */
  registrationId(): number;
  /** Tells the crypto which account device it is, once the server assigned it. */
  setLocalAddress(device: PeerDevice): void;
  /** Generates and keeps a new signed prekey and last-resort Kyber prekey (the rotating pair). */
  generateSignedPreKeys(now: number): Promise<SignedPreKeys>;
  /** The current rotating pair, if any was generated. */
  currentSignedPreKeys(): SignedPreKeys | undefined;
  /** Generates and keeps `count` one-time EC and Kyber prekeys. */
  generateOneTimePreKeys(count: number, now: number): Promise<OneTimePreKeys>;
  /** Starts a session with the device a (verified) bundle describes. */
  startSession(userId: string, bundle: PreKeyBundle): Promise<void>;
  /** The registration id of the device a session is with; undefined when there is no session. */
  sessionRegistrationId(peer: PeerDevice): Promise<number | undefined>;
  /** Forgets the session with a device (it is gone or stale). */
  forgetSession(peer: PeerDevice): Promise<void>;
  encrypt(peer: PeerDevice, plaintext: Uint8Array): Promise<Ciphertext>;
  decrypt(peer: PeerDevice, message: Ciphertext): Promise<Uint8Array>;
  /** The identity key last seen for a device, if any. */
  peerIdentityKey(peer: PeerDevice): Promise<Uint8Array | undefined>;
  /**
   * The safety number between this device (of `localUserId`) and a peer device: 60 digits both
   * sides compute alike, to compare in person.
   */
  safetyNumber(localUserId: string, peer: PeerDevice): Promise<string>;
  /** Called when a peer device's identity key differs from the one seen before. */
  onIdentityChanged(listener: (peer: PeerDevice) => void): void;
  /**
   * Runs `fn` so that every store write inside it, and the app's own writes through the same
   * store, commit together or not at all (decrypting a message and logging its plaintext).
   */
  atomically<T>(fn: () => Promise<T>): Promise<T>;
}
