import type { EventType } from '../events/catalog.js';

/** Names on the bus for one deployment (or one test run), all derived from EVENT_PREFIX. */
export class Subjects {
  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error(`EVENT_PREFIX '${prefix}' must be letters, digits, - and _`);
  }

  get stream(): string {
    return `${this.prefix.toUpperCase().replace(/-/g, '_')}_EVENTS`;
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
}
