import { rpcError } from '@parley/platform';

/**
 * Bounds how many bcrypt operations run at once. bcrypt runs on libuv's thread pool, which also
 * serves WebCrypto (token checks), DNS and file I/O; a burst of logins allowed to take every
 * thread would stall all of those. Extra work waits here in a bounded queue instead.
 */
export class HashingSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly maxQueue: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.slots) {
      if (this.waiting.length >= this.maxQueue) {
        throw rpcError.resourceExhausted('too many sign-ins in progress; retry in a few seconds');
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
