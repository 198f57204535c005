import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { MAX_DELIVERIES_IN_FLIGHT } from '@parley/platform';
import { DeliverySchema, FetchDeliveriesResponseSchema, type Delivery, type FetchDeliveriesResponse } from '@parley/proto';
import { ManualClock } from '@parley/testing';
import { DeliveryStream, type FetchPage, type StreamEvent, type StreamTiming } from './delivery-stream.js';

/**
 * A device's queue as messaging's FetchDeliveries serves it: oldest first, skipping in-flight ids.
 * Ids double as queue positions, as they are given out in order.
 */
class FakeQueue {
  private readonly rows = new Map<bigint, Delivery>();
  private nextId = 1n;
  readonly calls: { inFlightIds: bigint[]; limit: number }[] = [];

  add(count: number): bigint[] {
    const ids: bigint[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.nextId++;
      this.rows.set(id, create(DeliverySchema, { id }));
      ids.push(id);
    }
    return ids;
  }

  /** What AckDeliveries does to the queue; the acked signal is the test's to send or lose. */
  delete(ids: bigint[]): void {
    for (const id of ids) this.rows.delete(id);
  }

  readonly fetch: FetchPage = async (inFlightIds, limit) => {
    this.calls.push({ inFlightIds, limit });
    const inFlight = new Set(inFlightIds);
    const available = [...this.rows.values()].filter((d) => !inFlight.has(d.id));
    return create(FetchDeliveriesResponseSchema, {
      deliveries: available.slice(0, limit),
      stillQueuedIds: inFlightIds.filter((id) => this.rows.has(id)),
      more: available.length > limit,
      queueHead: this.nextId - 1n,
    });
  };

  /** The queued delivery with `id`, as its live signal carries it. */
  row(id: bigint): Delivery {
    return this.rows.get(id)!;
  }
}

/** Every stream's time: it moves only when a test advances it or ticks the stream. */
let clock: ManualClock;
beforeEach(() => {
  clock = new ManualClock();
});

const BUFFER = { maxItems: 512, maxBytes: 1024 * 1024 };

function openStream(fetch: FetchPage, overrides: Partial<StreamTiming> = {}, id = 'stream-b', openedAtMs = 1000) {
  const timing = { expiresAtMs: clock.now() + 3_600_000, heartbeatMs: 25_000, pollMs: 60_000, stallMs: 30_000, ...overrides };
  const stream = new DeliveryStream(id, openedAtMs, fetch, timing, BUFFER, {}, clock);
  return { stream, reader: reader(stream) };
}

/** Reads a stream's events as the handler would, and what it ended with. */
function reader(stream: DeliveryStream) {
  const events: StreamEvent[] = [];
  let error: ConnectError | undefined;
  let done = false;
  void (async () => {
    try {
      for await (const event of stream.events()) events.push(event);
    } catch (err) {
      error = err as ConnectError;
    }
    done = true;
  })();
  return {
    events,
    get error() {
      return error;
    },
    get done() {
      return done;
    },
    ids: () => events.filter((e) => e.case === 'delivery').map((e) => (e.value as Delivery).id),
    cases: () => events.map((e) => e.case),
  };
}

/** Lets every pending promise and callback run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function range(from: number, to: number): bigint[] {
  return Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));
}

describe('DeliveryStream', () => {
  it('drains the queue oldest first, says QueueEmpty once, then sends what is queued later', async () => {
    const queue = new FakeQueue();
    queue.add(3);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    expect(r.cases()).toEqual(['delivery', 'delivery', 'delivery', 'queueEmpty']);
    expect(r.ids()).toEqual([1n, 2n, 3n]);
    queue.add(2);
    stream.queued();
    await settle();
    expect(r.ids()).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(r.cases().filter((c) => c === 'queueEmpty')).toHaveLength(1);
    stream.end('client_closed');
  });

  it('sends a live delivery at the next queue position at once, without a fetch', async () => {
    const queue = new FakeQueue();
    queue.add(2);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    const fetches = queue.calls.length;
    const [third, fourth] = queue.add(2);
    stream.delivered(queue.row(third!), 3n);
    stream.delivered(queue.row(fourth!), 4n);
    expect(r.ids()).toEqual([1n, 2n]);
    await settle();
    expect(r.ids()).toEqual([1n, 2n, 3n, 4n]);
    expect(r.events.flatMap((e) => (e.case === 'delivery' ? [e.path] : []))).toEqual(['fetched', 'fetched', 'live', 'live']);
    expect(queue.calls).toHaveLength(fetches);
    stream.end('client_closed');
  });

  it('fetches when a position is skipped (a lost signal), sends in queue order, and ignores the late signal', async () => {
    const queue = new FakeQueue();
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    const [lost, next] = queue.add(2);
    stream.delivered(queue.row(next!), 2n);
    await settle();
    expect(r.ids()).toEqual([1n, 2n]);
    stream.delivered(queue.row(lost!), 1n);
    const third = queue.add(1)[0]!;
    stream.delivered(queue.row(third), 3n);
    await settle();
    expect(r.ids()).toEqual([1n, 2n, 3n]);
    expect(r.events.at(-1)).toMatchObject({ case: 'delivery', path: 'live' });
    stream.end('client_closed');
  });

  it('while a fetch runs, sends a live delivery only through the next fetch, never ahead of older ones', async () => {
    const queue = new FakeQueue();
    const gates: (() => void)[] = [];
    // Reads the queue when called, answers when the test opens the gate, as a slow network would.
    const gated: FetchPage = async (inFlightIds, limit) => {
      const page = await queue.fetch(inFlightIds, limit);
      await new Promise<void>((resolve) => gates.push(resolve));
      return page;
    };
    queue.add(3);
    const { stream, reader: r } = openStream(gated);
    stream.start();
    await settle();
    // Position 4 commits after the drain's fetch read the queue, and its signal comes while that fetch is away.
    const fourth = queue.add(1)[0]!;
    stream.delivered(queue.row(fourth), 4n);
    gates.shift()!();
    await settle();
    expect(r.ids()).toEqual([1n, 2n, 3n]);
    gates.shift()!();
    await settle();
    expect(r.ids()).toEqual([1n, 2n, 3n, 4n]);
    expect(gates).toHaveLength(0);
    stream.end('client_closed');
  });

  it('leaves a live delivery in the queue while the window is full, and sends it after an ack', async () => {
    const queue = new FakeQueue();
    queue.add(MAX_DELIVERIES_IN_FLIGHT);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    const next = queue.add(1)[0]!;
    stream.delivered(queue.row(next), next);
    await settle();
    expect(r.ids()).toHaveLength(MAX_DELIVERIES_IN_FLIGHT);
    queue.delete([1n]);
    stream.acked([1n]);
    await settle();
    expect(r.ids().at(-1)).toBe(next);
    expect(r.ids()).toHaveLength(MAX_DELIVERIES_IN_FLIGHT + 1);
    stream.end('client_closed');
  });

  it('keeps at most 256 unacked, and sends more as acks free the window', async () => {
    const queue = new FakeQueue();
    queue.add(300);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    expect(r.ids()).toEqual(range(1, MAX_DELIVERIES_IN_FLIGHT));
    expect(r.cases()).not.toContain('queueEmpty');

    queue.delete(range(1, 10));
    stream.acked(range(1, 10));
    await settle();
    expect(r.ids()).toEqual(range(1, 266));
    expect(stream.inFlightCount).toBe(MAX_DELIVERIES_IN_FLIGHT);

    const rest = range(11, 266);
    queue.delete(rest);
    stream.acked(rest);
    await settle();
    expect(r.ids()).toEqual(range(1, 300));
    expect(r.cases().at(-1)).toBe('queueEmpty');
    expect(queue.calls.every(({ inFlightIds, limit }) => inFlightIds.length + limit <= MAX_DELIVERIES_IN_FLIGHT)).toBe(true);
    stream.end('client_closed');
  });

  it('does not fetch on a queued signal while the window is full, but does after an ack', async () => {
    const queue = new FakeQueue();
    queue.add(MAX_DELIVERIES_IN_FLIGHT);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    const fetchesWhenFull = queue.calls.length;
    queue.add(1);
    stream.queued();
    await settle();
    expect(queue.calls).toHaveLength(fetchesWhenFull);
    queue.delete([1n]);
    stream.acked([1n]);
    await settle();
    expect(r.ids().at(-1)).toBe(BigInt(MAX_DELIVERIES_IN_FLIGHT + 1));
    stream.end('client_closed');
  });

  it('runs one fetch at a time, and signals during a fetch coalesce into one more fetch', async () => {
    const queue = new FakeQueue();
    const gates: (() => void)[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const gated: FetchPage = async (inFlightIds, limit) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return queue.fetch(inFlightIds, limit);
    };
    const { stream, reader: r } = openStream(gated);
    stream.start();
    await settle();
    queue.add(1);
    stream.queued();
    stream.queued();
    stream.resync();
    await settle();
    expect(gates).toHaveLength(1);
    gates.shift()!();
    await settle();
    expect(gates).toHaveLength(1);
    gates.shift()!();
    await settle();
    expect(gates).toHaveLength(0);
    expect(mostAtOnce).toBe(1);
    expect(queue.calls).toHaveLength(2);
    expect(r.ids()).toEqual([1n]);
    stream.end('client_closed');
  });

  it('learns from stillQueuedIds of acks whose signal was lost, and refills the window', async () => {
    const queue = new FakeQueue();
    queue.add(MAX_DELIVERIES_IN_FLIGHT + 5);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    expect(stream.inFlightCount).toBe(MAX_DELIVERIES_IN_FLIGHT);
    // Acked through messaging, but the acked signal never arrives.
    queue.delete(range(1, 5));
    stream.resync();
    await settle();
    expect(r.ids()).toEqual(range(1, MAX_DELIVERIES_IN_FLIGHT + 5));
    expect(r.cases().at(-1)).toBe('queueEmpty');
    expect(stream.inFlightCount).toBe(MAX_DELIVERIES_IN_FLIGHT);
    stream.end('client_closed');
  });

  it('never sends an in-flight delivery twice, however many fetches run', async () => {
    const queue = new FakeQueue();
    queue.add(5);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    stream.resync();
    stream.queued();
    await settle();
    stream.resync();
    await settle();
    expect(r.ids()).toEqual(range(1, 5));
    stream.end('client_closed');
  });

  it('sends an ephemeral delivery at once, outside the window', async () => {
    const queue = new FakeQueue();
    queue.add(MAX_DELIVERIES_IN_FLIGHT);
    const { stream, reader: r } = openStream(queue.fetch);
    stream.start();
    await settle();
    stream.ephemeral(create(DeliverySchema, { id: 0n }));
    await settle();
    expect(r.ids().at(-1)).toBe(0n);
    expect(r.ids()).toHaveLength(MAX_DELIVERIES_IN_FLIGHT + 1);
    expect(stream.inFlightCount).toBe(MAX_DELIVERIES_IN_FLIGHT);
    stream.end('client_closed');
  });

  it('ends when a newer stream for the device opens, whichever signal arrives, with ties broken by stream id', async () => {
    const queue = new FakeQueue();
    const { stream, reader: r } = openStream(queue.fetch, {}, 'stream-b', 1000);
    stream.start();
    stream.streamOpened({ streamId: 'stream-b', openedAtMs: 1000 });
    stream.streamOpened({ streamId: 'stream-z', openedAtMs: 999 });
    stream.streamOpened({ streamId: 'stream-a', openedAtMs: 1000 });
    await settle();
    expect(r.done).toBe(false);
    stream.streamOpened({ streamId: 'stream-c', openedAtMs: 1000 });
    await settle();
    expect(r.done).toBe(true);
    expect([r.error?.code, r.error?.rawMessage]).toEqual([Code.FailedPrecondition, 'replaced: another Subscribe for this device is open']);
    expect(stream.endReason).toBe('replaced');
  });

  it('retries a fetch that failed with UNAVAILABLE, keeping the stream open', async () => {
    const queue = new FakeQueue();
    queue.add(2);
    let failuresLeft = 2;
    const flaky: FetchPage = async (inFlightIds, limit): Promise<FetchDeliveriesResponse> => {
      if (failuresLeft-- > 0) throw new ConnectError('messaging is restarting', Code.Unavailable);
      return queue.fetch(inFlightIds, limit);
    };
    const { stream, reader: r } = openStream(flaky);
    stream.start();
    await settle();
    for (const retry of [1, 2]) {
      expect(clock.pending()).toHaveLength(1);
      clock.advance(clock.pending()[0]!);
      await settle();
      expect(failuresLeft).toBe(retry === 1 ? 0 : -1);
    }
    expect(r.ids()).toEqual([1n, 2n]);
    expect(r.cases().at(-1)).toBe('queueEmpty');
    expect(r.done).toBe(false);
    expect(clock.pending()).toEqual([]);
    stream.end('client_closed');
  });

  it('backs its retries off from 250 ms, doubling up to 10 s, each ±50%, and fetches nothing while it waits', async () => {
    let fetches = 0;
    let failing = true;
    const queue = new FakeQueue();
    queue.add(1);
    const down: FetchPage = async (inFlightIds, limit) => {
      fetches++;
      if (failing) throw new ConnectError('messaging is unreachable', Code.Unavailable);
      return queue.fetch(inFlightIds, limit);
    };
    const { stream, reader: r } = openStream(down);
    stream.start();
    await settle();
    for (const backoff of [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]) {
      const [wait] = clock.pending();
      expect(wait).toBeGreaterThanOrEqual(backoff * 0.5);
      expect(wait).toBeLessThanOrEqual(backoff * 1.5);
      // Signals while it waits do not cut the backoff short.
      const before = fetches;
      stream.queued();
      stream.resync();
      clock.advance(wait! - 1);
      await settle();
      expect(fetches).toBe(before);
      clock.advance(1);
      await settle();
      expect(fetches).toBe(before + 1);
    }
    // Back up: the next retry delivers, and a later failure starts again from 250 ms.
    failing = false;
    clock.advance(clock.pending()[0]!);
    await settle();
    expect(r.ids()).toEqual([1n]);
    failing = true;
    stream.resync();
    await settle();
    expect(clock.pending()[0]).toBeLessThanOrEqual(375);
    // Ending the stream cancels the retry.
    stream.end('client_closed');
    expect(clock.pending()).toEqual([]);
  });

  it('ends with UNAUTHENTICATED when messaging refuses the token', async () => {
    const refusing: FetchPage = async () => {
      throw new ConnectError('access token expired: get a new one with AuthService/Refresh', Code.Unauthenticated);
    };
    const { stream, reader: r } = openStream(refusing);
    stream.start();
    await settle();
    expect(r.error?.code).toBe(Code.Unauthenticated);
    expect(stream.endReason).toBe('unauthenticated');
  });

  it('on the clock: ends at the token expiry, sends a heartbeat when idle, and polls the queue', async () => {
    const queue = new FakeQueue();
    const now = clock.now();
    const { stream, reader: r } = openStream(queue.fetch, { expiresAtMs: now + 10 * 60_000, heartbeatMs: 25_000, pollMs: 60_000 }, 's', now);
    stream.start();
    await settle();
    const fetches = queue.calls.length;
    stream.tick(now + 1000);
    await settle();
    expect(r.cases()).toEqual(['queueEmpty']);
    // Later than any jittered poll period (at most 1.5 times it).
    stream.tick(now + 91_000);
    await settle();
    expect(r.cases()).toEqual(['queueEmpty', 'heartbeat']);
    expect(queue.calls.length).toBe(fetches + 1);
    stream.tick(now + 10 * 60_000);
    await settle();
    expect([r.error?.code, r.error?.rawMessage]).toEqual([Code.Unauthenticated, 'access token expired: refresh and subscribe again']);
    expect(stream.endReason).toBe('token_expired');
  });

  describe('with a client that stops reading', () => {
    const limits = { maxItems: 4, maxBytes: 1000 };
    const ephemeralOf = (bytes: number) => create(DeliverySchema, { id: 0n, payload: { case: 'envelope', value: { ciphertext: new Uint8Array(bytes), ephemeral: true } } });

    /** A stream whose reader takes one event and holds it, as a handler does while its write waits for `drain`. */
    async function stalledStream(fetch: FetchPage, buffer = limits) {
      const counts = { dropped: 0, ended: [] as string[], closedRequests: 0 };
      const hooks = {
        onEphemeralDropped: () => counts.dropped++,
        onEnded: (reason: string) => counts.ended.push(reason),
        onWriteStalled: () => counts.closedRequests++,
      };
      const timing = { expiresAtMs: clock.now() + 3_600_000, heartbeatMs: 25_000, pollMs: 60_000, stallMs: 30_000 };
      const stream = new DeliveryStream('s', clock.now(), fetch, timing, buffer, hooks, clock);
      const events = stream.events();
      stream.start();
      await settle();
      const held = await events.next();
      /** Reads everything buffered, as the client does once it catches up. */
      const readBuffered = async () => {
        const read: StreamEvent[] = [];
        while (stream.bufferedCount > 0) read.push((await events.next()).value as StreamEvent);
        await settle();
        while (stream.bufferedCount > 0) read.push((await events.next()).value as StreamEvent);
        return read;
      };
      return { stream, counts, held, events, readBuffered };
    }

    it('holds at most maxItems unread and drops the ephemerals past it, counting them', async () => {
      const { stream, counts, readBuffered } = await stalledStream(new FakeQueue().fetch);
      for (let i = 0; i < 10; i++) stream.ephemeral(ephemeralOf(10));
      expect([stream.bufferedCount, counts.dropped]).toEqual([4, 6]);
      expect(await readBuffered()).toHaveLength(4);
      stream.ephemeral(ephemeralOf(10));
      expect([stream.bufferedCount, counts.dropped]).toEqual([1, 6]);
      stream.end('client_closed');
    });

    it('holds at most maxBytes unread, but always takes one delivery into an empty buffer', async () => {
      const { stream, counts } = await stalledStream(new FakeQueue().fetch);
      stream.ephemeral(ephemeralOf(5000));
      expect([stream.bufferedCount, counts.dropped]).toEqual([1, 0]);
      stream.ephemeral(ephemeralOf(10));
      expect([stream.bufferedCount, counts.dropped]).toEqual([1, 1]);
      stream.end('client_closed');
    });

    it('never drops a stored delivery: it stays queued and is fetched once the client has read half the buffer', async () => {
      const queue = new FakeQueue();
      const { stream, counts, readBuffered } = await stalledStream(queue.fetch);
      for (let i = 0; i < 4; i++) stream.ephemeral(ephemeralOf(10));
      const ids = queue.add(3);
      // Live at the next position, but the buffer is full: left in the queue, not sent, not dropped.
      stream.delivered(queue.row(ids[0]!), ids[0]!);
      stream.queued();
      await settle();
      expect([stream.bufferedCount, stream.inFlightCount, counts.dropped]).toEqual([4, 0, 0]);
      const read = await readBuffered();
      expect(read.flatMap((e) => (e.case === 'delivery' && e.value.id !== 0n ? [e.value.id] : []))).toEqual(ids);
      expect(stream.inFlightCount).toBe(3);
      stream.end('client_closed');
    });

    it('fetches no more stored deliveries than the buffer holds, and the rest as the client reads', async () => {
      const queue = new FakeQueue();
      queue.add(1);
      const { stream, readBuffered } = await stalledStream(queue.fetch);
      const ids = queue.add(10);
      stream.queued();
      await settle();
      expect(stream.bufferedCount).toBeLessThanOrEqual(4);
      const read: bigint[] = [];
      while (read.length < 10) {
        for (const e of await readBuffered()) if (e.case === 'delivery') read.push(e.value.id);
      }
      expect(read).toEqual(ids);
      stream.end('client_closed');
    });

    it('ends the stream when a write stays blocked for stallMs, releases it once, and closes its request', async () => {
      const { stream, counts, held } = await stalledStream(new FakeQueue().fetch);
      expect(held.value).toMatchObject({ case: 'queueEmpty' });
      stream.ephemeral(ephemeralOf(10));
      const start = clock.now();
      stream.tick(start + 29_999);
      expect([stream.ended, counts.closedRequests]).toEqual([false, 0]);
      stream.tick(start + 30_000);
      expect([stream.ended, stream.endReason, stream.bufferedCount]).toEqual([true, 'stalled', 0]);
      expect(counts).toMatchObject({ ended: ['stalled'], closedRequests: 1 });
      stream.end('client_closed');
      expect(counts.ended).toEqual(['stalled']);
    });

    it('does not count a client that reads, however slowly, as stalled', async () => {
      const { stream, counts, events } = await stalledStream(new FakeQueue().fetch);
      for (let second = 1; second <= 5; second++) {
        stream.ephemeral(ephemeralOf(10));
        void events.next();
        clock.advance(20_000);
        stream.tick(clock.now());
        await settle();
      }
      expect([stream.ended, counts.closedRequests]).toEqual([false, 0]);
      stream.end('client_closed');
    });

    it('ended for another reason while a write is blocked: releases at once, and closes the request when the write has been blocked for stallMs', async () => {
      const { stream, counts } = await stalledStream(new FakeQueue().fetch);
      clock.advance(10_000);
      stream.end('replaced', new ConnectError('replaced', Code.FailedPrecondition));
      expect(counts).toMatchObject({ ended: ['replaced'], closedRequests: 0 });
      clock.advance(19_999);
      expect(counts.closedRequests).toBe(0);
      clock.advance(1);
      expect(counts.closedRequests).toBe(1);
    });

    it('ended while its reader waits for an event: nothing is left to close', async () => {
      const { stream, counts, events } = await stalledStream(new FakeQueue().fetch);
      const next = events.next();
      stream.end('client_closed');
      expect(await next).toEqual({ done: true, value: undefined });
      clock.advance(60_000);
      expect(counts).toMatchObject({ ended: ['client_closed'], closedRequests: 0 });
      expect(clock.pending()).toEqual([]);
    });
  });

  it('stops without an error when the client leaves', async () => {
    const { stream, reader: r } = openStream(new FakeQueue().fetch);
    stream.start();
    await settle();
    stream.end('client_closed');
    await settle();
    expect([r.done, r.error]).toEqual([true, undefined]);
  });
});
