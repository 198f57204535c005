import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { DeviceMismatchSchema, OutgoingEnvelopeSchema, type DeviceAddress, type MessageService, type OutgoingEnvelope, type SendMessageResponse } from '@parley/proto';
import { backoffDelay, sleep, type Clock } from './clock.js';
import { encodeContent, type Content } from './content.js';
import type { PeerDevice, SignalCrypto } from './crypto.js';
import type { Emitter } from './emitter.js';
import { DeviceMismatchError, isTransient, ParleyError } from './errors.js';
import type { ClientEvents } from './events.js';
import type { KeyManager } from './keys.js';
import type { Lock } from './lock.js';

export interface SendOptions {
  /** Deliver only to devices online now and store nothing (typing). */
  ephemeral?: boolean;
  /** Reuse to make a retry of an earlier send idempotent; a fresh UUID by default. */
  clientMessageId?: string;
}

export interface SenderOptions {
  /** Sends refused with a DeviceMismatch are retried this many times in all. */
  mismatchTries?: number;
  /** How long a send keeps retrying while the server is unreachable. */
  unreachableForMs?: number;
}

const key = (d: PeerDevice) => `${d.userId}/${d.deviceId}`;

/**
 * Sends a message as Parley wants it: one envelope per recipient device (every other member's
 * devices and this user's other devices). When the server answers DeviceMismatch it fetches and
 * verifies the missing devices' bundles, drops the extra ones, starts fresh sessions with the
 * stale ones, and sends again with the same client message id, a bounded number of times.
 */
export class MessageSender {
  /** The devices each conversation's last send addressed. */
  private readonly recipients = new Map<string, PeerDevice[]>();
  private readonly mismatchTries: number;
  private readonly unreachableForMs: number;

  constructor(
    private readonly messages: Client<typeof MessageService>,
    private readonly crypto: SignalCrypto,
    private readonly keys: KeyManager,
    private readonly lock: Lock,
    private readonly clock: Clock,
    private readonly events: Emitter<ClientEvents>,
    opts: SenderOptions = {},
  ) {
    this.mismatchTries = opts.mismatchTries ?? 5;
    this.unreachableForMs = opts.unreachableForMs ?? 120_000;
  }

  async send(conversationId: string, content: Content, opts: SendOptions = {}): Promise<SendMessageResponse> {
    const clientMessageId = opts.clientMessageId ?? globalThis.crypto.randomUUID();
    const plaintext = encodeContent(content);
    let devices = this.recipients.get(conversationId) ?? [];
    let lastMismatch: unknown;
    for (let tries = 0; tries < this.mismatchTries; tries++) {
      const envelopes = await this.lock.run(() => this.encrypt(devices, plaintext));
      try {
        const res = await this.untilReachable(() => this.messages.sendMessage({ conversationId, clientMessageId, envelopes, ephemeral: opts.ephemeral ?? false }));
        this.recipients.set(conversationId, devices);
        return res;
      } catch (err) {
        const mismatch = err instanceof ConnectError && err.code === Code.FailedPrecondition ? err.findDetails(DeviceMismatchSchema)[0] : undefined;
        if (!mismatch) throw ParleyError.from(err);
        lastMismatch = err;
        const plain = (list: DeviceAddress[]) => list.map((d) => ({ userId: d.userId, deviceId: d.deviceId }));
        this.events.emit('devicesRepaired', { conversationId, missing: plain(mismatch.missingDevices), extra: plain(mismatch.extraDevices), stale: plain(mismatch.staleDevices) });
        devices = await this.repair(devices, mismatch.missingDevices, mismatch.extraDevices, mismatch.staleDevices);
        // A device just linked may not have uploaded keys yet: give it a moment before the next try.
        if (tries > 0) await sleep(this.clock, backoffDelay(tries));
      }
    }
    throw new DeviceMismatchError(this.mismatchTries, lastMismatch);
  }

  private async encrypt(devices: PeerDevice[], plaintext: Uint8Array): Promise<OutgoingEnvelope[]> {
    const envelopes: OutgoingEnvelope[] = [];
    for (const device of devices) {
      const registrationId = await this.crypto.sessionRegistrationId(device);
      if (registrationId === undefined) continue; // its session is gone: the server will call it missing
      const { type, ciphertext } = await this.crypto.encrypt(device, plaintext);
      envelopes.push(create(OutgoingEnvelopeSchema, { recipientUserId: device.userId, recipientDeviceId: device.deviceId, registrationId, type, ciphertext }));
    }
    return envelopes;
  }

  /** The device list after a DeviceMismatch: extra ones dropped, missing and stale ones with fresh sessions. */
  private async repair(devices: PeerDevice[], missing: DeviceAddress[], extra: DeviceAddress[], stale: DeviceAddress[]): Promise<PeerDevice[]> {
    const dropped = new Set([...extra, ...stale].map(key));
    const kept = devices.filter((d) => !dropped.has(key(d)));
    for (const device of extra) await this.lock.run(() => this.crypto.forgetSession(device));
    const added: PeerDevice[] = [];
    // A missing device this client already has a session with (another conversation's) needs no new one.
    for (const device of missing) {
      if ((await this.crypto.sessionRegistrationId(device)) !== undefined) added.push({ userId: device.userId, deviceId: device.deviceId });
    }
    const reused = new Set(added.map(key));
    for (const device of [...stale, ...missing.filter((d) => !reused.has(key(d)))]) {
      const bundles = await this.keys.bundles(device.userId, device.deviceId).catch((err: unknown) => {
        // No keys yet (a brand-new device): leave it missing, the next try asks again.
        if (err instanceof ParleyError && err.code === Code.NotFound) return [];
        throw err;
      });
      for (const bundle of bundles) {
        await this.lock.run(async () => {
          await this.crypto.forgetSession(device);
          await this.crypto.startSession(device.userId, bundle);
        });
        added.push({ userId: device.userId, deviceId: bundle.deviceId });
      }
    }
    const known = new Set(kept.map(key));
    return [...kept, ...added.filter((d) => !known.has(key(d)))];
  }

  /** Retries a call the server may not have received, with backoff, for a bounded time. */
  private async untilReachable<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + this.unreachableForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        // The server may or may not have stored it: the same client message id makes the retry safe.
        if (!isTransient(err) || this.clock.now() >= deadline) throw err;
        await sleep(this.clock, backoffDelay(Math.min(attempt, 5)));
      }
    }
  }
}
