import { setTimeout as sleep } from 'node:timers/promises';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { CiphertextType, DeliveryService, MessageService, type OutgoingEnvelopeSchema, type SendMessageResponse } from '@parley/proto';
import { edgeClient, eventually, type DeviceAddress, type SignedInDevice } from '@parley/testing';

export type OutgoingEnvelopeInit = MessageInitShape<typeof OutgoingEnvelopeSchema>;

/** One envelope of arbitrary ciphertext (the server never reads it) for every device but the sender's. */
export function envelopesFrom(sender: DeviceAddress, devices: DeviceAddress[], ciphertext: Uint8Array): OutgoingEnvelopeInit[] {
  return devices
    .filter((d) => !(d.userId === sender.userId && d.deviceId === sender.deviceId))
    .map((d) => ({ recipientUserId: d.userId, recipientDeviceId: d.deviceId, registrationId: d.registrationId, type: CiphertextType.SIGNAL, ciphertext }));
}

/**
 * What a client retries: the server or the path to it was down, or the call was cut. A backend
 * killed mid-call reaches the client as UNAVAILABLE (the edge does not relay the reset it sees as
 * CANCELED), so CANCELED is not here. Retrying is safe because a send is idempotent by its
 * client_message_id.
 */
const TRANSIENT = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Aborted]);

/** Runs `call` until it succeeds, retrying transient failures; anything else is thrown. */
export async function untilAccepted<T>(call: () => Promise<T>, onRetry?: (code: Code) => void): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (err) {
      const code = ConnectError.from(err).code;
      if (!TRANSIENT.has(code)) throw err;
      onRetry?.(code);
      await sleep(100);
    }
  }
}

/** A sending device: SendMessage through one edge, retried by client_message_id until it succeeds. */
export class Sender {
  /** How often each failure code was retried. */
  readonly retries = new Map<Code, number>();
  private readonly messages: Client<typeof MessageService>;

  constructor(device: SignedInDevice, edgeUrl: string) {
    this.messages = edgeClient(MessageService, edgeUrl, { accessToken: device.tokens.accessToken });
  }

  send(conversationId: string, clientMessageId: string, envelopes: OutgoingEnvelopeInit[]): Promise<SendMessageResponse> {
    return untilAccepted(
      () => this.messages.sendMessage({ conversationId, clientMessageId, envelopes }),
      (code) => this.retries.set(code, (this.retries.get(code) ?? 0) + 1),
    );
  }
}

/** One delivery as a device received it. */
export interface Received {
  deliveryId: bigint;
  /** Which of the inbox's streams it came on, from 0. */
  stream: number;
  /** Empty for a notice. */
  messageId: string;
  seq: bigint;
}

export interface InboxOptions {
  /** The edge to subscribe and ack through, asked again at each reconnect. */
  edgeUrl: () => string;
  /** Whether to ack a delivery; all by default. */
  shouldAck?: (received: Received) => boolean;
}

/**
 * A receiving device as an app runs it: Subscribe through the edge, ack what it processed, and
 * subscribe again whenever the stream ends or breaks. It records everything it receives, and
 * each delivery that came back after its ack had succeeded, which must never happen. Before
 * subscribing again it waits for its acks in flight, so "acked" is known at each reconnect.
 */
export class Inbox {
  readonly received: Received[] = [];
  /** The edge each stream was opened on, by stream number. */
  readonly streamUrls: string[] = [];
  /** Each stream's end: the error code, or 'ended'. */
  readonly streamEnds: (Code | 'ended')[] = [];
  /** Deliveries received on a stream opened after their ack had succeeded. */
  readonly redeliveredAfterAck: bigint[] = [];
  /** Acked deliveries, with the number of the stream open when the ack succeeded. */
  private readonly ackedOnStream = new Map<bigint, number>();
  /** Acks that failed for good (not a transient failure); a test expects none. */
  readonly ackFailures: unknown[] = [];
  private readonly toAck: bigint[] = [];
  private acking: Promise<void> = Promise.resolve();
  private streams = 0;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private readonly streamOpened: (() => void)[] = [];

  constructor(
    private readonly device: SignedInDevice,
    private readonly opts: InboxOptions,
  ) {}

  get acked(): ReadonlySet<bigint> {
    return new Set(this.ackedOnStream.keys());
  }

  /** Starts the subscribe loop; resolves once the first stream is open. */
  start(): Promise<void> {
    const opened = new Promise<void>((r) => this.streamOpened.push(r));
    this.running = this.run();
    return opened;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await this.acking;
  }

  /** Received envelopes (notices left out) by message id, each with the delivery ids it came in. */
  messages(): Map<string, { seq: bigint; deliveryIds: Set<bigint> }> {
    const byMessage = new Map<string, { seq: bigint; deliveryIds: Set<bigint> }>();
    for (const r of this.received.filter((r) => r.messageId !== '')) {
      const entry = byMessage.get(r.messageId) ?? { seq: r.seq, deliveryIds: new Set() };
      entry.deliveryIds.add(r.deliveryId);
      byMessage.set(r.messageId, entry);
    }
    return byMessage;
  }

  /** How many times each delivery id arrived. */
  timesReceived(): Map<bigint, number> {
    const times = new Map<bigint, number>();
    for (const r of this.received) times.set(r.deliveryId, (times.get(r.deliveryId) ?? 0) + 1);
    return times;
  }

  /** Resolves when the inbox holds `n` distinct messages and has acked every delivery it meant to. */
  async untilMessages(n: number, timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => ({ messages: this.messages().size, pendingAcks: this.toAck.length }),
      (s) => s.messages >= n && s.pendingAcks === 0,
      timeoutMs,
    );
    await this.acking;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await this.settleAcks();
      const stream = this.streams++;
      const url = this.opts.edgeUrl();
      this.streamUrls.push(url);
      const deliveries = edgeClient(DeliveryService, url, { accessToken: this.device.tokens.accessToken });
      try {
        for await (const res of deliveries.subscribe({}, { signal })) {
          if (res.event.case === 'queueEmpty') this.streamOpened.splice(0).forEach((r) => r());
          if (res.event.case !== 'delivery') continue;
          const d = res.event.value;
          const envelope = d.payload.case === 'envelope' ? d.payload.value : undefined;
          const received: Received = { deliveryId: d.id, stream, messageId: envelope?.messageId ?? '', seq: envelope?.seq ?? 0n };
          this.received.push(received);
          const ackedOn = this.ackedOnStream.get(d.id);
          if (ackedOn !== undefined && ackedOn < stream) this.redeliveredAfterAck.push(d.id);
          if (d.id !== 0n && (this.opts.shouldAck?.(received) ?? true)) this.ack(d.id);
        }
        this.streamEnds.push('ended');
      } catch (err) {
        if (signal.aborted) break;
        this.streamEnds.push(ConnectError.from(err).code);
        await sleep(100);
      }
    }
  }

  private ack(id: bigint): void {
    this.toAck.push(id);
    void this.settleAcks();
  }

  /** Acks run one flush at a time, so a batch is never sent twice nor dropped unsent. */
  private settleAcks(): Promise<void> {
    this.acking = this.acking.then(() => this.flushAcks()).catch((err) => void this.ackFailures.push(err));
    return this.acking;
  }

  /** Acks everything waiting, in batches, retrying through whichever edge is current until each batch succeeds. */
  private async flushAcks(): Promise<void> {
    while (this.toAck.length > 0) {
      const batch = this.toAck.slice(0, 500);
      const messages = edgeClient(MessageService, this.opts.edgeUrl(), { accessToken: this.device.tokens.accessToken });
      await untilAccepted(() => messages.ackDeliveries({ deliveryIds: batch }));
      // A stream opened after this point can't have been sent these: they are gone from the queue.
      for (const id of batch) this.ackedOnStream.set(id, this.streams - 1);
      this.toAck.splice(0, batch.length);
    }
  }
}
