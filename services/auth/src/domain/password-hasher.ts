import { createHash } from 'node:crypto';
import bcrypt from 'bcrypt';
import { HashingSlots } from './hashing-slots.js';

/** Password hashes waiting beyond this many at once are refused: the caller retries later. */
const MAX_QUEUED = 500;

/**
 * bcrypt at the configured cost. bcrypt runs on libuv's pool of `threadPoolSize` threads
 * (UV_THREADPOOL_SIZE); it leaves two of them to everything else, so token checks (WebCrypto)
 * keep flowing during a burst of logins.
 */
export class PasswordHasher {
  private readonly slots: HashingSlots;

  constructor(
    private readonly cost: number,
    threadPoolSize: number,
  ) {
    this.slots = new HashingSlots(Math.max(1, threadPoolSize - 2), MAX_QUEUED);
  }

  hash(password: string): Promise<string> {
    return this.slots.run(() => bcrypt.hash(prehash(password), this.cost));
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.slots.run(() => bcrypt.compare(prehash(password), hash));
  }
}

/**
 * bcrypt reads at most 72 bytes, so it hashes the password's SHA-256 instead: every character
 * counts, and no input can smuggle a NUL. The async API runs on libuv's pool, off the event loop.
 */
function prehash(password: string): string {
  return createHash('sha256').update(password.normalize('NFKC'), 'utf8').digest('base64');
}
