import { Batcher } from './batcher.js';

/** A run function whose batches the test sees and finishes by hand. */
function manualRun() {
  const batches: { items: number[]; finish: (results?: (string | Error)[]) => void; fail: (err: Error) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<(string | Error)[]>((resolve, reject) => {
      batches.push({ items, finish: (results) => resolve(results ?? items.map((i) => `r${i}`)), fail: reject });
    });
  return { batches, run };
}

/** Lets the batcher's scheduled turn, and what it started, run. */
const settle = () => new Promise((r) => setImmediate(() => setImmediate(r)));

describe('Batcher', () => {
  it('runs an item at once when nothing else runs', async () => {
    const { batches, run } = manualRun();
    const batcher = new Batcher(run, { maxBatch: 10, concurrency: 1 });
    const result = batcher.submit(1);
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    batches[0]!.finish();
    await expect(result).resolves.toBe('r1');
  });

  it('takes into one batch what one turn submits, even over several promise hops', async () => {
    const { batches, run } = manualRun();
    const batcher = new Batcher(run, { maxBatch: 10, concurrency: 1 });
    // As a batched RPC's items do: each checks its token (a cached, but awaited, lookup) before submitting.
    const hops = async (i: number) => {
      for (let h = 0; h < i; h++) await Promise.resolve();
      return batcher.submit(i);
    };
    const results = [1, 2, 3].map(hops);
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    batches[0]!.finish();
    await expect(Promise.all(results)).resolves.toEqual(['r1', 'r2', 'r3']);
  });

  it('takes what arrived while it was busy as the next batch, up to maxBatch', async () => {
    const { batches, run } = manualRun();
    const batcher = new Batcher(run, { maxBatch: 3, concurrency: 1 });
    const results = [1, 2, 3, 4, 5, 6].map((i) => batcher.submit(i));
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    batches[0]!.finish();
    await settle();
    expect(batches.map((b) => b.items)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    batches[1]!.finish();
    await expect(Promise.all(results)).resolves.toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  it('runs up to `concurrency` batches at once', async () => {
    const { batches, run } = manualRun();
    const batcher = new Batcher(run, { maxBatch: 1, concurrency: 2 });
    [1, 2, 3].forEach((i) => void batcher.submit(i));
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1], [2]]);
    batches[1]!.finish();
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1], [2], [3]]);
  });

  it('fails one item for an Error result, every item for a throw', async () => {
    const { batches, run } = manualRun();
    const batcher = new Batcher(run, { maxBatch: 10, concurrency: 1 });
    const first = [1, 2].map((i) => batcher.submit(i).catch((e: Error) => e.message));
    await settle();
    batches[0]!.finish(['r1', new Error('no 2')]);
    await expect(Promise.all(first)).resolves.toEqual(['r1', 'no 2']);
    const second = [3, 4].map((i) => batcher.submit(i).catch((e: Error) => e.message));
    await settle();
    batches[1]!.fail(new Error('database gone'));
    await expect(Promise.all(second)).resolves.toEqual(['database gone', 'database gone']);
  });

  it('refuses an answer that does not match the batch', async () => {
    const batcher = new Batcher(async () => ['only one'], { maxBatch: 10, concurrency: 1 });
    const results = [1, 2].map((i) => batcher.submit(i).catch((e: Error) => e.message));
    await expect(Promise.all(results)).resolves.toEqual([expect.stringMatching(/answered with 1/), expect.stringMatching(/answered with 1/)]);
  });
});
