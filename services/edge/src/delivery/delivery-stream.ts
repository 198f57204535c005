import { Code, ConnectError } from '@connectrpc/connect';
import { MAX_DELIVERIES_IN_FLIGHT, systemClock, type Cancel, type Clock } from '@parley/platform';
import type { Delivery, FetchDeliveriesResponse } from '@parley/proto';
import { StreamBuffer, type StreamBufferLimits } from './stream-buffer.js';

/** Reads the device's queue: the oldest deliveries not in `inFlightIds`, at most `limit`. */
export type FetchPage = (inFlightIds: bigint[], limit: number) => Promise<FetchDeliveriesResponse>;

/** How a delivery reached the stream: read from the queue, or carried by its live signal. */
export type DeliveryPath = 'fetched' | 'live';

export type StreamEvent =
  | { case: 'delivery'; value: Delivery; path: DeliveryPath }
  | { case: 'queueEmpty'; value: object }
  | { case: 'heartbeat'; value: object };

/** Why a stream ended, as the stream-ends metric names it. */
export type EndReason = 'client_closed' | 'replaced' | 'session_revoked' | 'sanctioned' | 'device_gone' | 'token_expired' | 'unauthenticated' | 'stalled' | 'shutdown';

export interface StreamIdentity {
  streamId: string;
  openedAtMs: number;
}

export interface StreamTiming {
  /** When the access token the stream was opened with expires. */
  expiresAtMs: number;
  /** Idle time after which a heartbeat is sent. */
  heartbeatMs: number;
  /** The safety poll's period; each poll is jittered by ±50%. */
  pollMs: number;
  /** How long a write may stay blocked (the client not reading) before the stream ends. */
  stallMs: number;
}

export interface StreamHooks {
  /** A fetch failed and will be retried. */
  onFetchError?: (err: ConnectError) => void;
  /** An ephemeral delivery was dropped because the client is behind. */
  onEphemeralDropped?: () => void;
  /** The stream ended, for whatever reason: release what it holds. */
  onEnded?: (reason: EndReason) => void;
  /** A write has been blocked for `stallMs`: close the request, so the transport lets go of it. */
  onWriteStalled?: () => void;
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

/**
 * One device's Subscribe stream, driven by live signals, a shared clock (`tick`) and a fetch
 * function; it knows nothing of NATS or RPC. It keeps at most MAX_DELIVERIES_IN_FLIGHT unacked and
 * runs at most one fetch at a time: a signal during a fetch asks for one more after it.
 *
 * Once a fetch has read the whole queue, the stream is caught up: it knows the queue position the
 * next delivery will have (`nextSeq`), and a live signal carrying exactly that position is sent at
 * once, with no fetch. Anything else (a later position, so a signal was lost or overtaken; a full
 * window; a fetch under way) sends the stream back to fetching, which reads in queue order. So
 * every delivery goes out once per stream, in queue order, however signals arrive.
 *
 * Signals are hints: every loss is repaired by the next fetch (a gap seen, safety poll, resync,
 * reconnect), which also learns from `stillQueuedIds` which in-flight deliveries were acked
 * meanwhile. A failed fetch is retried on `clock`, backing off.
 *
 * What the client hasn't read yet is bounded by `buffer`. When it is full the client is behind:
 * ephemerals are dropped (they are best-effort), and stored deliveries stay in the queue, fetched
 * once the client has read half the buffer. A write that stays blocked for `stallMs` ends the stream.
 */
export class DeliveryStream implements StreamIdentity {
  private readonly inFlight = new Set<bigint>();
  private readonly pending: StreamBuffer;
  /** Stored deliveries were left in the queue because the buffer was full. */
  private bufferBlocked = false;
  /** When the event the reader holds (its write under way) was handed out; undefined while it waits for one. */
  private handedOutAtMs: number | undefined;
  private cancelStallCheck: Cancel | undefined;
  private wake: (() => void) | undefined;
  private fetching = false;
  private fetchWanted = false;
  private morePending = false;
  private drained = false;
  /** The queue position of the next delivery, while caught up; undefined while fetching is needed. */
  private nextSeq: bigint | undefined;
  private failures = 0;
  private cancelRetry: Cancel | undefined;
  private nextPollAtMs: number;
  private lastSentAtMs: number;
  private closed = false;
  private endError: ConnectError | undefined;
  private endedBecause: EndReason | undefined;

  constructor(
    readonly streamId: string,
    readonly openedAtMs: number,
    private readonly fetchPage: FetchPage,
    private readonly timing: StreamTiming,
    limits: StreamBufferLimits,
    private readonly hooks: StreamHooks = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.pending = new StreamBuffer(limits);
    this.lastSentAtMs = openedAtMs;
    this.nextPollAtMs = openedAtMs + jittered(timing.pollMs);
  }

  get ended(): boolean {
    return this.closed;
  }

  get endReason(): EndReason | undefined {
    return this.endedBecause;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Events waiting for the client to read them. */
  get bufferedCount(): number {
    return this.pending.length;
  }

  /** Starts the drain: everything queued, then QueueEmpty. */
  start(): void {
    this.requestFetch(true);
  }

  /** New deliveries were queued (an older messaging's hint). With a full window there is nothing to fetch until an ack. */
  queued(): void {
    this.requestFetch(false);
  }

  /** A committed delivery at `queueSeq`: sent now if it is the next one, else a reason to fetch. */
  delivered(delivery: Delivery, queueSeq: bigint): void {
    if (this.closed) return;
    if (this.nextSeq === undefined || this.fetching || this.cancelRetry) return this.requestFetch(false);
    // Already sent by a fetch that read it, or acked since.
    if (queueSeq < this.nextSeq) return;
    if (queueSeq > this.nextSeq || this.inFlight.size >= MAX_DELIVERIES_IN_FLIGHT) {
      this.nextSeq = undefined;
      return this.requestFetch(false);
    }
    if (!this.pending.fits(delivery)) {
      // It stays queued: fetched again once the client has read half the buffer.
      this.nextSeq = undefined;
      this.bufferBlocked = true;
      return;
    }
    this.nextSeq++;
    this.inFlight.add(delivery.id);
    this.emit({ case: 'delivery', value: delivery, path: 'live' });
  }

  /** Signals may have been missed (resync, NATS reconnect, safety poll): fetch even with a full window, to learn of lost acks. */
  resync(): void {
    this.requestFetch(true);
  }

  acked(ids: readonly bigint[]): void {
    const wasFull = this.inFlight.size >= MAX_DELIVERIES_IN_FLIGHT;
    let freed = false;
    for (const id of ids) freed = this.inFlight.delete(id) || freed;
    if (freed && (wasFull || this.morePending)) this.requestFetch(false);
  }

  /** Ephemeral deliveries are sent at once (never stored, never acked, outside the window), or dropped when the client is behind. */
  ephemeral(delivery: Delivery): void {
    if (this.closed) return;
    if (!this.pending.fits(delivery)) return this.hooks.onEphemeralDropped?.();
    this.emit({ case: 'delivery', value: delivery, path: 'live' });
  }

  /**
   * Another stream for this device opened. The newest wins, ties broken by stream id, so two
   * streams that hear of each other agree on which one ends.
   */
  streamOpened(other: StreamIdentity): void {
    if (other.streamId !== this.streamId && isNewer(other, this)) {
      this.end('replaced', new ConnectError('replaced: another Subscribe for this device is open', Code.FailedPrecondition));
    }
  }

  /** The shared clock: token expiry, heartbeats, safety polls. */
  tick(nowMs: number): void {
    if (this.closed) return;
    if (nowMs >= this.timing.expiresAtMs) {
      this.end('token_expired', new ConnectError('access token expired: refresh and subscribe again', Code.Unauthenticated));
      return;
    }
    if (this.handedOutAtMs !== undefined && nowMs - this.handedOutAtMs >= this.timing.stallMs) {
      this.end('stalled', new ConnectError(`the client read nothing for ${this.timing.stallMs / 1000} s: subscribe again`, Code.DeadlineExceeded));
      return;
    }
    if (nowMs - this.lastSentAtMs >= this.timing.heartbeatMs && this.pending.length === 0) this.emit({ case: 'heartbeat', value: {} });
    if (nowMs >= this.nextPollAtMs) {
      this.nextPollAtMs = nowMs + jittered(this.timing.pollMs);
      this.resync();
    }
  }

  /**
   * Ends the stream: with `error` the client receives it, without one (the client left) it just
   * stops. What it holds is released now; a write still blocked is given up on at `stallMs`.
   */
  end(reason: EndReason, error?: ConnectError): void {
    if (this.closed) return;
    this.closed = true;
    this.endedBecause = reason;
    this.endError = error;
    this.pending.clear();
    this.cancelRetry?.();
    this.wake?.();
    this.hooks.onEnded?.(reason);
    this.watchBlockedWrite();
  }

  /** What to send, in order, until the stream ends; throws the error it ended with. */
  async *events(): AsyncGenerator<StreamEvent, void, undefined> {
    for (;;) {
      if (this.closed) {
        if (this.endError) throw this.endError;
        return;
      }
      const next = this.pending.shift();
      if (next) {
        this.handedOutAtMs = this.clock.now();
        try {
          yield next;
        } finally {
          this.handedOutAtMs = undefined;
          this.cancelStallCheck?.();
        }
        if (this.bufferBlocked && this.pending.halfEmpty) {
          this.bufferBlocked = false;
          this.requestFetch(false);
        }
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** After the end: a reader still holding an event has its request closed once the write has been blocked for `stallMs`. */
  private watchBlockedWrite(): void {
    const handedOutAtMs = this.handedOutAtMs;
    if (handedOutAtMs === undefined) return;
    if (this.endedBecause === 'stalled') return this.hooks.onWriteStalled?.();
    this.cancelStallCheck = this.clock.schedule(handedOutAtMs + this.timing.stallMs - this.clock.now(), () => {
      if (this.handedOutAtMs === handedOutAtMs) this.hooks.onWriteStalled?.();
    });
  }

  private emit(event: StreamEvent): void {
    if (this.closed) return;
    this.pending.push(event);
    this.lastSentAtMs = this.clock.now();
    this.wake?.();
  }

  private requestFetch(evenIfFull: boolean): void {
    if (this.closed) return;
    if (!evenIfFull && this.inFlight.size >= MAX_DELIVERIES_IN_FLIGHT) {
      this.morePending = true;
      return;
    }
    this.fetchWanted = true;
    if (!this.fetching && !this.cancelRetry) void this.runFetches();
  }

  private async runFetches(): Promise<void> {
    this.fetching = true;
    try {
      while (this.fetchWanted && !this.closed) {
        this.fetchWanted = false;
        if (!(await this.fetchOnce())) return;
      }
    } finally {
      this.fetching = false;
    }
  }

  /** One page; false when it failed and a retry is scheduled. */
  private async fetchOnce(): Promise<boolean> {
    const requested = [...this.inFlight];
    // With a full window or buffer, a one-item page still tells which in-flight ids were acked.
    const limit = Math.max(Math.min(MAX_DELIVERIES_IN_FLIGHT - requested.length, this.pending.roomForItems), 1);
    let page: FetchDeliveriesResponse;
    try {
      page = await this.fetchPage(requested, limit);
    } catch (err) {
      this.fetchFailed(ConnectError.from(err));
      return false;
    }
    this.failures = 0;
    if (this.closed) return true;
    const stillQueued = new Set(page.stillQueuedIds);
    for (const id of requested) if (!stillQueued.has(id)) this.inFlight.delete(id);
    let dropped = false;
    for (const delivery of page.deliveries) {
      if (this.inFlight.size >= MAX_DELIVERIES_IN_FLIGHT) {
        dropped = true;
        break;
      }
      if (!this.pending.fits(delivery)) {
        dropped = true;
        this.bufferBlocked = true;
        break;
      }
      this.inFlight.add(delivery.id);
      this.emit({ case: 'delivery', value: delivery, path: 'fetched' });
    }
    this.morePending = page.more || dropped;
    this.nextSeq = this.morePending ? undefined : page.queueHead + 1n;
    if (this.morePending) {
      if (this.inFlight.size < MAX_DELIVERIES_IN_FLIGHT && !this.bufferBlocked) this.fetchWanted = true;
    } else if (!this.drained) {
      this.drained = true;
      this.emit({ case: 'queueEmpty', value: {} });
    }
    return true;
  }

  private fetchFailed(err: ConnectError): void {
    if (this.closed) return;
    if (err.code === Code.Unauthenticated) {
      this.end('unauthenticated', new ConnectError(err.rawMessage, Code.Unauthenticated));
      return;
    }
    this.hooks.onFetchError?.(err);
    // Messaging restarting or unreachable: keep the stream and try again, backing off.
    this.fetchWanted = true;
    const delay = Math.min(RETRY_FIRST_MS * 2 ** this.failures++, RETRY_MAX_MS);
    this.cancelRetry = this.clock.schedule(jittered(delay), () => {
      this.cancelRetry = undefined;
      void this.runFetches();
    });
  }
}

function isNewer(a: StreamIdentity, b: StreamIdentity): boolean {
  return a.openedAtMs !== b.openedAtMs ? a.openedAtMs > b.openedAtMs : a.streamId > b.streamId;
}

/** `ms` ±50%, so many streams' timers don't fire together. */
function jittered(ms: number): number {
  return ms * (0.5 + Math.random());
}
