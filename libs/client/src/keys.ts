import { Code, type Client } from '@connectrpc/connect';
import type { KeyService, PreKeyBundle, PreKeyCounts } from '@parley/proto';
import { backoffDelay, sleep, type Cancel, type Clock } from './clock.js';
import type { PublicPreKey, PublicSignedPreKey, SignalCrypto } from './crypto.js';
import { call, isTransient, ParleyError } from './errors.js';
import type { KeyTransparency } from './key-transparency.js';

export interface KeyOptions {
  /** One-time prekeys of each kind in the first upload and in every top-up. */
  batchSize?: number;
  /** How often the signed prekey and the last-resort Kyber prekey rotate. */
  rotationIntervalMs?: number;
  /** Tries of the first upload while keys has not yet learnt of a brand-new device. */
  uploadTries?: number;
}

/** Progress of a long key operation: `done` of `total` keys generated, then the upload. */
export type KeyProgress = (step: { phase: 'generating' | 'uploading' | 'done'; done: number; total: number }) => void;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Generated keys go up in pieces of this many, so progress moves and no request nears the 1000-item cap. */
const GENERATE_CHUNK = 25;

/**
 * This device's keys on the server: the first upload, top-ups when the server says prekeys run
 * low, and the signed prekey's rotation on a schedule (on an injected clock). Bundles of other
 * devices come back only after key transparency verified them.
 */
export class KeyManager {
  private readonly batchSize: number;
  private readonly rotationIntervalMs: number;
  private readonly uploadTries: number;
  private cancelRotation: Cancel | undefined;
  private topUpInFlight: Promise<PreKeyCounts | undefined> | undefined;

  constructor(
    private readonly keys: Client<typeof KeyService>,
    private readonly crypto: SignalCrypto,
    private readonly transparency: KeyTransparency,
    private readonly clock: Clock,
    opts: KeyOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 100;
    this.rotationIntervalMs = opts.rotationIntervalMs ?? 2 * DAY_MS;
    this.uploadTries = opts.uploadTries ?? 12;
  }

  /** Generates and uploads the signed prekeys and a batch of one-time prekeys, reporting progress. */
  async publish(onProgress?: KeyProgress): Promise<PreKeyCounts | undefined> {
    const signed = this.crypto.currentSignedPreKeys() ?? (await this.crypto.generateSignedPreKeys(this.clock.now()));
    const oneTime = await this.generate(this.batchSize, onProgress);
    onProgress?.({ phase: 'uploading', done: this.batchSize, total: this.batchSize });
    const counts = await this.upload({ signedPreKey: signed.signedPreKey, pqLastResortPreKey: signed.pqLastResortPreKey, ...oneTime });
    onProgress?.({ phase: 'done', done: this.batchSize, total: this.batchSize });
    return counts;
  }

  /** Adds a batch of one-time prekeys; concurrent calls (several PreKeysLow notices) share one. */
  topUp(): Promise<PreKeyCounts | undefined> {
    this.topUpInFlight ??= this.generate(this.batchSize)
      .then((oneTime) => this.upload(oneTime))
      .finally(() => (this.topUpInFlight = undefined));
    return this.topUpInFlight;
  }

  /** Rotates the signed prekeys if they are older than the rotation interval; true if it did. */
  async rotateIfDue(): Promise<boolean> {
    const current = this.crypto.currentSignedPreKeys();
    if (current && this.clock.now() - current.createdAt < this.rotationIntervalMs) return false;
    const fresh = await this.crypto.generateSignedPreKeys(this.clock.now());
    await this.upload({ signedPreKey: fresh.signedPreKey, pqLastResortPreKey: fresh.pqLastResortPreKey, preKeys: [], pqPreKeys: [] });
    return true;
  }

  /** Rotates whenever the interval has passed, until `stop`; a failed rotation is reported and retried next interval. */
  startRotation(onError: (err: Error) => void): void {
    const current = this.crypto.currentSignedPreKeys();
    const due = current ? Math.max(0, current.createdAt + this.rotationIntervalMs - this.clock.now()) : 0;
    this.cancelRotation?.();
    this.cancelRotation = this.clock.schedule(due, () => {
      void this.rotateIfDue()
        .catch((err: Error) => onError(err))
        .finally(() => this.startRotation(onError));
    });
  }

  stop(): void {
    this.cancelRotation?.();
  }

  /** How many one-time prekeys of each kind the server still holds for this device. */
  async counts(): Promise<PreKeyCounts | undefined> {
    return (await call(() => this.keys.getPreKeyCounts({}))).counts;
  }

  /** The verified bundles of a user's devices (deviceId 0: every device). */
  async bundles(userId: string, deviceId = 0): Promise<PreKeyBundle[]> {
    const res = await call(() => this.keys.getPreKeyBundles({ userId, deviceId }));
    for (const bundle of res.bundles) await this.transparency.verifyBundle(userId, bundle);
    return res.bundles;
  }

  private async generate(count: number, onProgress?: KeyProgress): Promise<{ preKeys: PublicPreKey[]; pqPreKeys: PublicSignedPreKey[] }> {
    const preKeys: PublicPreKey[] = [];
    const pqPreKeys: PublicSignedPreKey[] = [];
    while (preKeys.length < count) {
      const chunk = await this.crypto.generateOneTimePreKeys(Math.min(GENERATE_CHUNK, count - preKeys.length), this.clock.now());
      preKeys.push(...chunk.preKeys);
      pqPreKeys.push(...chunk.pqPreKeys);
      onProgress?.({ phase: 'generating', done: preKeys.length, total: count });
    }
    return { preKeys, pqPreKeys };
  }

  /**
   * Uploads, retrying FAILED_PRECONDITION for a while: keys learns of a brand-new device from
   * auth's events and refuses its upload until then.
   */
  private async upload(parts: {
    signedPreKey?: PublicSignedPreKey;
    pqLastResortPreKey?: PublicSignedPreKey;
    preKeys: PublicPreKey[];
    pqPreKeys: PublicSignedPreKey[];
  }): Promise<PreKeyCounts | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await call(() => this.keys.uploadKeys({ identityKey: this.crypto.identityKey(), ...parts }));
        return res.counts;
      } catch (err) {
        const retriable = (err instanceof ParleyError && err.code === Code.FailedPrecondition) || isTransient(err);
        if (!retriable || attempt + 1 >= this.uploadTries) throw err;
        await sleep(this.clock, backoffDelay(attempt, () => 0.5 + Math.random() / 2));
      }
    }
  }
}
