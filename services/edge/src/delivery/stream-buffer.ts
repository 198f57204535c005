import type { Delivery } from '@parley/proto';
import type { StreamEvent } from './delivery-stream.js';

/** What a stream may hold that its client has not read yet, ephemerals included. */
export interface StreamBufferLimits {
  maxItems: number;
  /** Estimated as each delivery's ciphertext plus a fixed overhead. */
  maxBytes: number;
}

/** What an event costs in the buffer besides its ciphertext: ids, timestamp, framing. */
const EVENT_OVERHEAD_BYTES = 128;

/** A stream's unread events, oldest first, counted in items and estimated bytes. */
export class StreamBuffer {
  private events: StreamEvent[] = [];
  private bytes = 0;

  constructor(private readonly limits: StreamBufferLimits) {}

  get length(): number {
    return this.events.length;
  }

  /** Room for at most this many more events. */
  get roomForItems(): number {
    return Math.max(this.limits.maxItems - this.events.length, 0);
  }

  /** Whether `delivery` fits; one always fits in an empty buffer, however large. */
  fits(delivery: Delivery): boolean {
    if (this.events.length === 0) return true;
    return this.events.length < this.limits.maxItems && this.bytes + deliverySize(delivery) <= this.limits.maxBytes;
  }

  /** At most half full: the point where a stream that was behind reads its queue again. */
  get halfEmpty(): boolean {
    return this.bytes <= this.limits.maxBytes / 2 && this.events.length <= this.limits.maxItems / 2;
  }

  push(event: StreamEvent): void {
    this.events.push(event);
    this.bytes += sizeOf(event);
  }

  shift(): StreamEvent | undefined {
    const event = this.events.shift();
    if (event) this.bytes -= sizeOf(event);
    return event;
  }

  clear(): void {
    this.events = [];
    this.bytes = 0;
  }
}

function sizeOf(event: StreamEvent): number {
  return event.case === 'delivery' ? deliverySize(event.value) : EVENT_OVERHEAD_BYTES;
}

function deliverySize(delivery: Delivery): number {
  return EVENT_OVERHEAD_BYTES + (delivery.payload.case === 'envelope' ? delivery.payload.value.ciphertext.byteLength : 0);
}
