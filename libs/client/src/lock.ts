/**
 * Runs tasks one at a time, in call order. libsignal's stores load, change and save a session
 * record around each encrypt and decrypt; two at once on one session would lose a ratchet step.
 */
export class Lock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
