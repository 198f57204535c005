import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import type { Delivery, DeliveryService, Envelope, MessageService, ServerNotice } from '@parley/proto';
import { backoffDelay, sleep, type Cancel, type Clock } from './clock.js';
import { decodeContent, type IncomingMessage } from './content.js';
import type { SignalCrypto } from './crypto.js';
import type { Emitter } from './emitter.js';
import { isTransient, LoggedOutError, ParleyError } from './errors.js';
import type { ClientEvents } from './events.js';
import type { Lock } from './lock.js';
import type { ClientStore, LoggedMessage } from './store.js';

export interface InboxOptions {
  /** Acks go out once this many wait, or `ackDelayMs` after the first one waits. */
  ackBatchSize?: number;
  ackDelayMs?: number;
  /** Random source of the reconnect jitter. */
  random?: () => number;
}

/** What the inbox asks of the rest of the client when the server sends a notice. */
export interface NoticeHandlers {
  preKeysLow(): Promise<unknown>;
  /** A session refresh before reconnecting after UNAUTHENTICATED; throws LoggedOutError when refused. */
  refreshSession(): Promise<unknown>;
}

/**
 * The receiving side: one Subscribe stream, reopened with exponential backoff and jitter when it
 * breaks. Each envelope is decrypted and logged in one store transaction, then handed to the
 * app; it is acked (in batches) only after the app calls `stored()`, so a crash before that gets
 * it again, from the log. Deliveries seen before are dropped by delivery id. Messages come out in
 * the order the queue holds them, which is each conversation's seq order.
 */
export class Inbox {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly seen = new Set<bigint>();
  private readonly toAck: bigint[] = [];
  private acking: Promise<void> = Promise.resolve();
  private cancelAckTimer: Cancel | undefined;
  private readonly waiting: IncomingMessage[] = [];
  private wake: (() => void) | undefined;
  private readonly listeners = new Map<string, Set<(m: IncomingMessage) => void>>();
  private readonly ackBatchSize: number;
  private readonly ackDelayMs: number;
  private readonly random: () => number;

  constructor(
    private readonly deliveries: Client<typeof DeliveryService>,
    private readonly messages: Client<typeof MessageService>,
    private readonly crypto: SignalCrypto,
    private readonly store: ClientStore,
    private readonly lock: Lock,
    private readonly events: Emitter<ClientEvents>,
    private readonly clock: Clock,
    private readonly notices: NoticeHandlers,
    opts: InboxOptions = {},
  ) {
    this.ackBatchSize = opts.ackBatchSize ?? 50;
    this.ackDelayMs = opts.ackDelayMs ?? 200;
    this.random = opts.random ?? Math.random;
  }

  /** Opens the stream; resolves once it delivered everything queued (its QueueEmpty marker). */
  start(): Promise<void> {
    if (this.running) throw new Error('the inbox is already running');
    return new Promise((resolve, reject) => {
      this.running = this.run(resolve).catch((err: unknown) => {
        reject(err);
        this.events.emit('error', err as Error);
      });
    });
  }

  /** Closes the stream and sends the acks still waiting. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.cancelAckTimer?.();
    await this.flushAcks();
    this.wake?.();
  }

  /** Every message, as an async iterator; it ends when the inbox stops. Call `stored()` on each. */
  async *[Symbol.asyncIterator](): AsyncGenerator<IncomingMessage> {
    for (;;) {
      const next = this.waiting.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.abort.signal.aborted) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Calls `listener` with each message of one conversation, in seq order; returns the unsubscribe. */
  onConversation(conversationId: string, listener: (m: IncomingMessage) => void): () => void {
    const set = this.listeners.get(conversationId) ?? new Set();
    set.add(listener);
    this.listeners.set(conversationId, set);
    return () => set.delete(listener);
  }

  private async run(opened: () => void): Promise<void> {
    const signal = this.abort.signal;
    for (let attempt = 0; !signal.aborted; ) {
      this.events.emit('connection', attempt === 0 ? 'connecting' : 'reconnecting');
      try {
        for await (const res of this.deliveries.subscribe({}, { signal })) {
          attempt = 0;
          if (res.event.case === 'queueEmpty') {
            this.events.emit('connection', 'open');
            opened();
          } else if (res.event.case === 'delivery') await this.receive(res.event.value);
        }
      } catch (err) {
        if (signal.aborted) break;
        const error = ConnectError.from(err);
        if (error.code === Code.FailedPrecondition) {
          // A newer Subscribe of this same device took over: two copies of one device must not fight.
          this.events.emit('connection', 'closed', error.rawMessage);
          throw ParleyError.from(err);
        }
        if (error.code === Code.Unauthenticated) {
          try {
            await this.notices.refreshSession();
          } catch (refreshErr) {
            if (refreshErr instanceof LoggedOutError) {
              this.events.emit('connection', 'closed', refreshErr.message);
              throw refreshErr;
            }
          }
        }
        await sleep(this.clock, backoffDelay(attempt++, this.random), signal).catch(() => undefined);
      }
    }
    this.events.emit('connection', 'closed');
  }

  private async receive(delivery: Delivery): Promise<void> {
    const { id } = delivery;
    if (id !== 0n && this.seen.has(id)) return;
    if (id !== 0n) this.seen.add(id);
    switch (delivery.payload.case) {
      case 'notice':
        await this.handleNotice(delivery.payload.value);
        this.ack(id);
        return;
      case 'envelope':
        return this.handleEnvelope(delivery, delivery.payload.value);
    }
  }

  private async handleEnvelope(delivery: Delivery, envelope: Envelope): Promise<void> {
    const sender = { userId: envelope.senderUserId, deviceId: envelope.senderDeviceId };
    if (envelope.ephemeral) {
      const plaintext = await this.lock.run(() => this.crypto.decrypt(sender, { type: envelope.type, ciphertext: envelope.ciphertext })).catch((err: Error) => {
        this.events.emit('error', err);
      });
      if (!plaintext) return;
      const content = decodeContent(plaintext);
      if (content.kind === 'typing') this.events.emit('typing', { conversationId: envelope.conversationId, ...sender, typing: content.typing });
      return;
    }
    const deliveryId = delivery.id.toString();
    let logged = this.store.loggedMessage(deliveryId);
    if (logged?.stored) return this.ack(delivery.id); // stored, but the ack was lost: ack again
    if (!logged) {
      try {
        logged = await this.lock.run(() =>
          this.crypto.atomically(async () => {
            const plaintext = await this.crypto.decrypt(sender, { type: envelope.type, ciphertext: envelope.ciphertext });
            const entry: LoggedMessage = {
              deliveryId,
              conversationId: envelope.conversationId,
              messageId: envelope.messageId,
              seq: envelope.seq.toString(),
              senderUserId: sender.userId,
              senderDeviceId: sender.deviceId,
              serverTime: delivery.serverTime ? timestampMs(delivery.serverTime) : this.clock.now(),
              content: new TextDecoder().decode(plaintext),
              stored: false,
            };
            this.store.logMessage(entry);
            return entry;
          }),
        );
      } catch (err) {
        // Undecryptable (a corrupt or replayed envelope): nothing can read it, so it must not block the queue.
        this.events.emit('error', new ParleyError(`could not decrypt message ${envelope.messageId} from ${sender.userId}/${sender.deviceId}: ${(err as Error).message}`, Code.DataLoss, 'ask the sender to send it again', { cause: err }));
        return this.ack(delivery.id);
      }
    }
    this.hand(logged, delivery.id);
  }

  private hand(logged: LoggedMessage, id: bigint): void {
    let storedOnce = false;
    const message: IncomingMessage = {
      deliveryId: id,
      conversationId: logged.conversationId,
      messageId: logged.messageId,
      seq: BigInt(logged.seq),
      sender: { userId: logged.senderUserId, deviceId: logged.senderDeviceId },
      serverTime: logged.serverTime,
      content: decodeContent(logged.content),
      stored: () => {
        if (storedOnce) return;
        storedOnce = true;
        this.store.markStored([logged.deliveryId]);
        this.ack(id);
      },
    };
    this.waiting.push(message);
    this.wake?.();
    this.events.emit('message', message);
    for (const listener of this.listeners.get(logged.conversationId) ?? []) listener(message);
  }

  private async handleNotice(notice: ServerNotice): Promise<void> {
    const n = notice.notice;
    switch (n.case) {
      case 'preKeysLow':
        await this.notices.preKeysLow().catch((err: Error) => this.events.emit('error', err));
        return;
      case 'devicesChanged':
      case 'membershipChanged':
        // The next send learns the new devices or members from the server's DeviceMismatch and fixes itself.
        return;
      case 'identityKeyChanged':
        return this.events.emit('safetyNumberChanged', { userId: n.value.userId, deviceId: n.value.deviceId });
      case 'messageRetracted':
        return this.events.emit('retracted', { conversationId: n.value.conversationId, messageId: n.value.messageId, seq: n.value.seq, senderUserId: n.value.senderUserId });
    }
  }

  private ack(id: bigint): void {
    if (id === 0n) return;
    this.toAck.push(id);
    if (this.toAck.length >= this.ackBatchSize) void this.flushAcks();
    else this.cancelAckTimer ??= this.clock.schedule(this.ackDelayMs, () => void this.flushAcks());
  }

  /** Sends the waiting acks, one batch call at a time, retrying until each succeeds or the inbox stops. */
  flushAcks(): Promise<void> {
    this.cancelAckTimer?.();
    this.cancelAckTimer = undefined;
    this.acking = this.acking.then(async () => {
      for (let attempt = 0; this.toAck.length > 0; ) {
        const batch = this.toAck.slice(0, 1000);
        try {
          await this.messages.ackDeliveries({ deliveryIds: batch });
          this.toAck.splice(0, batch.length);
          attempt = 0;
        } catch (err) {
          const error = ParleyError.from(err);
          this.events.emit('error', error);
          if (!isTransient(error)) {
            // The server refused the batch itself (not the path to it): retrying can't help, and the deliveries come again.
            this.toAck.splice(0, batch.length);
            continue;
          }
          if (this.abort.signal.aborted && attempt > 3) return;
          await sleep(this.clock, backoffDelay(attempt++, this.random));
        }
      }
    });
    return this.acking;
  }
}
