export interface BatcherOptions {
  /** Most items one batch takes. */
  maxBatch: number;
  /** Most batches running at once (e.g. database connections given to this work). */
  concurrency: number;
}

/**
 * Group commit: items submitted while `concurrency` batches are running wait, and the next batch
 * takes all of them (up to `maxBatch`). Under no load an item runs at once, alone, so it adds no
 * latency; under load, batches grow with the load and each item's share of the fixed cost (a
 * transaction, a round trip, a commit) shrinks. `run` answers each item in order: a value, or an
 * Error that fails only that item; a throw fails the whole batch.
 */
export class Batcher<I, O> {
  private readonly queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<(O | Error)[]>,
    private readonly opts: BatcherOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Starts a batch once the current turn of the event loop has submitted what it will (a request
   * that fans out into many submissions makes them over several promise hops), so calls that
   * arrive together go together.
   */
  private schedule(): void {
    if (this.scheduled || this.running >= this.opts.concurrency) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.running++;
      void this.runBatch(batch);
    }
  }

  private async runBatch(batch: Batcher<I, O>['queue']): Promise<void> {
    try {
      const results = await this.run(batch.map((b) => b.item));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} was answered with ${results.length} results`);
      batch.forEach((b, i) => {
        const result = results[i];
        if (result instanceof Error) b.reject(result);
        else b.resolve(result as O);
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.running--;
      this.dispatch();
    }
  }
}
