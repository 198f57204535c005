import { Code, ConnectError } from '@connectrpc/connect';
import { HashingSlots } from './hashing-slots.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('HashingSlots', () => {
  it('runs at most `slots` jobs at once and starts queued ones as others finish, in order', async () => {
    const slots = new HashingSlots(2, 10);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    let concurrent = 0;
    let peak = 0;
    const jobs = gates.map((gate, i) =>
      slots.run(async () => {
        started.push(i);
        peak = Math.max(peak, ++concurrent);
        await gate.promise;
        concurrent--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    await expect(Promise.all(jobs)).resolves.toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
  });

  it('frees the slot when a job fails', async () => {
    const slots = new HashingSlots(1, 10);
    await expect(slots.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
  });

  it('refuses with RESOURCE_EXHAUSTED once the queue is full', async () => {
    const slots = new HashingSlots(1, 1);
    const gate = deferred();
    const running = slots.run(() => gate.promise);
    const queued = slots.run(async () => 'queued');
    const err = await slots.run(async () => 'refused').catch((e: unknown) => e as ConnectError);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    gate.resolve();
    await running;
    await expect(queued).resolves.toBe('queued');
  });
});
