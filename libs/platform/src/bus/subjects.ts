import type { EventType } from '../events/catalog.js';

/** Names on the bus for one deployment (or one test run), all derived from EVENT_PREFIX. */
export class Subjects {
  constructor(readonly prefix: string) {
    // Lowercase only, so that distinct prefixes always give distinct stream names.
    if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error(`EVENT_PREFIX '${prefix}' must be lowercase letters, digits and _`);
  }

  get stream(): string {
    return `${this.prefix.toUpperCase()}_EVENTS`;
  }

  get all(): string {
    return `${this.prefix}.>`;
  }

  of(type: EventType): string {
    return `${this.prefix}.${type.name}`;
  }

  deadLetter(consumer: string): string {
    return `${this.prefix}.dlq.${consumer}`;
  }

  /**
   * Core NATS signals for the stream of one device (never stored). Outside `${prefix}.>`, so the
   * event stream does not capture them.
   */
  liveDevice(userId: string, deviceId: number): string {
    return `live.${this.prefix}.device.${userId}.${deviceId}`;
  }

  /** Tells every edge to refetch every stream's queue, e.g. after signals may have been missed. */
  get liveResync(): string {
    return `live.${this.prefix}.resync`;
  }
}
