import { ConnectError } from '@connectrpc/connect';
import { DeliveryService, MessageService, type Delivery, type SubscribeResponse } from '@parley/proto';
import { edgeClient, type SignedInDevice } from '@parley/testing';

/** What a Subscribe stream sent that a client acts on: a delivery, or the end of the queue it opened with. */
export type StreamEvent = { case: 'delivery'; delivery: Delivery } | { case: 'queueEmpty' };

const open = new Set<Subscription>();

/**
 * One device's Subscribe stream through an edge, read in the background as an app reads it:
 * events wait, in order, until the test takes them. Keep-alive events are skipped. Close every
 * subscription a test opens (`closeAllSubscriptions` in afterEach), so no stream outlives it.
 */
export class Subscription {
  private readonly events: StreamEvent[] = [];
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private ended = false;
  private endError: ConnectError | undefined;
  private readonly reading: Promise<void>;

  private constructor(
    readonly edgeUrl: string,
    readonly device: SignedInDevice,
  ) {
    const stream = edgeClient(DeliveryService, edgeUrl, { accessToken: device.tokens.accessToken }).subscribe({}, { signal: this.abort.signal });
    this.reading = this.read(stream);
    open.add(this);
  }

  /** Opens `device`'s stream on the edge at `edgeUrl`. */
  static open(edgeUrl: string, device: SignedInDevice): Subscription {
    return new Subscription(edgeUrl, device);
  }

  private async read(stream: AsyncIterable<SubscribeResponse>): Promise<void> {
    try {
      for await (const res of stream) {
        if (res.event.case === 'delivery') this.events.push({ case: 'delivery', delivery: res.event.value });
        else if (res.event.case === 'queueEmpty') this.events.push({ case: 'queueEmpty' });
        else continue;
        this.wake?.();
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.endError = ConnectError.from(err);
    } finally {
      this.ended = true;
      this.wake?.();
    }
  }

  /** The next event; throws the stream's error if it ends first. */
  async next(): Promise<StreamEvent> {
    for (;;) {
      const event = this.events.shift();
      if (event) return event;
      if (this.ended) throw this.endError ?? new Error('the stream ended without an error before the next event');
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Everything the stream sent before its QueueEmpty marker: the queue as it was when the stream opened. */
  async backlog(): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    for (let event = await this.next(); event.case === 'delivery'; event = await this.next()) deliveries.push(event.delivery);
    return deliveries;
  }

  /** The next delivery; fails on a QueueEmpty marker (call `backlog` first). */
  async nextDelivery(): Promise<Delivery> {
    const event = await this.next();
    if (event.case !== 'delivery') throw new Error(`expected a delivery, got ${event.case}`);
    return event.delivery;
  }

  /**
   * The next envelope's delivery, passing over notices: for tests about messages, where a notice
   * from a device change that messaging applies late may come first.
   */
  async nextEnvelope(): Promise<Delivery> {
    for (;;) {
      const delivery = await this.nextDelivery();
      if (delivery.payload.case === 'envelope') return delivery;
    }
  }

  /** Acks deliveries through MessageService.AckDeliveries on the same edge, as this device; returns how many were acked. */
  async ack(deliveries: Delivery[]): Promise<number> {
    const messages = edgeClient(MessageService, this.edgeUrl, { accessToken: this.device.tokens.accessToken });
    return (await messages.ackDeliveries({ deliveryIds: deliveries.map((d) => d.id) })).acked;
  }

  /** Closes the stream from the client's side. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.reading;
    open.delete(this);
  }
}

export async function closeAllSubscriptions(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
}

/** The device's queue as a fresh Subscribe shows it, then closes that stream. */
export async function queueOf(edgeUrl: string, device: SignedInDevice): Promise<Delivery[]> {
  const subscription = Subscription.open(edgeUrl, device);
  try {
    return await subscription.backlog();
  } finally {
    await subscription.close();
  }
}

/** The envelope deliveries of one message among `deliveries`. */
export function deliveriesOf(messageId: string, deliveries: Delivery[]): Delivery[] {
  return deliveries.filter((d) => d.payload.case === 'envelope' && d.payload.value.messageId === messageId);
}
