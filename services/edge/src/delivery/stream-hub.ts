import { randomUUID } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { SpanKind, inSpan, systemClock, type Cancel, type Caller, type Clock, type NatsConnection, type Subjects } from '@parley/platform';
import { LiveSignalSchema } from '@parley/proto';
import { DeliveryStream, type EndReason, type FetchPage } from './delivery-stream.js';
import type { StreamBufferLimits } from './stream-buffer.js';
import type { StreamMetrics } from './stream-metrics.js';

type Subscription = ReturnType<NatsConnection['subscribe']>;

/** One open Subscribe: its stream, whose it is, and its device subject's subscription. */
export interface OpenStream {
  readonly stream: DeliveryStream;
  readonly caller: Caller;
  readonly signals: Subscription;
}

export interface StreamHubOptions {
  nats: NatsConnection;
  subjects: Subjects;
  log: Logger;
  metrics: StreamMetrics;
  heartbeatMs: number;
  pollMs: number;
  /** How long a stream's write may stay blocked before the stream ends and its request is closed. */
  stallMs: number;
  /** What each stream may hold that its client has not read yet. */
  buffer: StreamBufferLimits;
  /** Drives expiry, heartbeats, safety polls, fetch retries and the resync spread. */
  clock?: Clock;
}

const CLOCK_MS = 1000;
const RESYNC_SPREAD_MS = 5000;

/**
 * The edge's open Subscribe streams, at most one per device. It feeds each stream its device's
 * live signals (one core NATS subscription per stream), and drives all of them from shared
 * parts: one clock for expiry, heartbeats and safety polls, one resync subscription, one watch
 * of the NATS connection (a reconnect means signals may have been missed, so every stream refetches).
 */
export class StreamHub {
  private readonly byDevice = new Map<string, OpenStream>();
  private readonly clock: Clock;
  private cancelTick: Cancel;
  private readonly resyncs: Subscription;
  private stopped = false;

  constructor(private readonly opts: StreamHubOptions) {
    this.clock = opts.clock ?? systemClock;
    this.cancelTick = this.clock.schedule(CLOCK_MS, () => this.tick());
    this.resyncs = opts.nats.subscribe(opts.subjects.liveResync, { callback: () => this.resyncAll() });
    void this.watchConnection();
  }

  get size(): number {
    return this.byDevice.size;
  }

  /**
   * Opens the caller's stream: replaces this edge's older stream for the device, subscribes to the
   * device's signals and waits until NATS has the subscription (a signal published from then on
   * reaches it), then announces itself there (so streams on other edges end) and starts the drain.
   */
  async open(caller: Caller, fetchPage: FetchPage, closeRequest: () => void): Promise<OpenStream> {
    if (this.stopped) throw new ConnectError('edge is shutting down; reconnect', Code.Unavailable);
    const { nats, subjects, log, metrics } = this.opts;
    const key = deviceKey(caller);
    const subject = subjects.liveDevice(caller.userId, caller.deviceId);
    // Whatever ends the stream releases its subscription, its place and its gauge at once, even while a write is blocked.
    const release = (reason: EndReason) => {
      open.signals.unsubscribe();
      if (this.byDevice.get(key) === open) this.byDevice.delete(key);
      metrics.closed(reason);
    };
    const stream = new DeliveryStream(
      randomUUID(),
      this.clock.now(),
      fetchPage,
      { expiresAtMs: caller.expiresAt.getTime(), heartbeatMs: this.opts.heartbeatMs, pollMs: this.opts.pollMs, stallMs: this.opts.stallMs },
      this.opts.buffer,
      {
        onFetchError: (err) => log.warn({ code: Code[err.code], msg: err.rawMessage }, 'cannot fetch deliveries for a stream; retrying'),
        onEphemeralDropped: () => metrics.ephemeralDropped(),
        onEnded: release,
        onWriteStalled: closeRequest,
      },
      this.clock,
    );
    const signals = nats.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        // A signal of a traced send (live-signals.ts) is handed to the stream in that trace.
        if (msg.headers) inSpan('deliver to stream', SpanKind.CONSUMER, msg.headers, () => this.onSignal(stream, msg.data));
        else this.onSignal(stream, msg.data);
      },
    });
    this.byDevice.get(key)?.stream.end('replaced', new ConnectError('replaced: another Subscribe for this device is open', Code.FailedPrecondition));
    const open: OpenStream = { stream, caller, signals };
    this.byDevice.set(key, open);
    metrics.opened();
    // Should NATS be down, its reconnect makes every stream refetch anyway.
    await nats.flush().catch(() => undefined);
    if (stream.ended) return open;
    nats.publish(
      subject,
      toBinary(LiveSignalSchema, create(LiveSignalSchema, { signal: { case: 'streamOpened', value: { streamId: stream.streamId, openedAtMs: BigInt(stream.openedAtMs) } } })),
    );
    stream.start();
    return open;
  }

  /** The handler is done with `open`, however it ended; harmless once the stream has ended. */
  close(open: OpenStream): void {
    open.stream.end('client_closed');
  }

  /** Sessions were revoked: their streams end now, not at the token's expiry. */
  endSessions(sessionIds: readonly string[]): void {
    const revoked = new Set(sessionIds);
    for (const { stream, caller } of this.byDevice.values()) {
      if (revoked.has(caller.sessionId)) stream.end('session_revoked', new ConnectError('session has ended: log in again', Code.Unauthenticated));
    }
  }

  /** The user was banned: their streams end now with `refusal`, which says what was applied and until when. */
  endUser(userId: string, refusal: ConnectError): void {
    for (const { stream, caller } of this.byDevice.values()) if (caller.userId === userId) stream.end('sanctioned', refusal);
  }

  /** Ends every stream so clients reconnect to another edge, and stops the shared parts. */
  shutdown(): void {
    this.stopped = true;
    this.cancelTick();
    this.resyncs.unsubscribe();
    for (const { stream } of this.byDevice.values()) stream.end('shutdown', new ConnectError('edge is shutting down; reconnect', Code.Unavailable));
  }

  private onSignal(stream: DeliveryStream, data: Uint8Array): void {
    let signal;
    try {
      signal = fromBinary(LiveSignalSchema, data).signal;
    } catch {
      this.opts.log.warn('ignoring a live signal that does not parse');
      return;
    }
    switch (signal.case) {
      case 'queued':
        return stream.queued();
      case 'delivered':
        return signal.value.delivery ? stream.delivered(signal.value.delivery, signal.value.queueSeq) : undefined;
      case 'acked':
        return stream.acked(signal.value.deliveryIds);
      case 'ephemeral':
        return stream.ephemeral(signal.value);
      case 'streamOpened':
        return stream.streamOpened({ streamId: signal.value.streamId, openedAtMs: Number(signal.value.openedAtMs) });
      case 'deviceGone':
        return stream.end('device_gone', new ConnectError('this device was revoked', Code.Unauthenticated));
    }
  }

  /**
   * Every stream refetches, spread over up to RESYNC_SPREAD_MS (about a millisecond per stream),
   * so a messaging restart or a NATS reconnect doesn't send thousands of fetches at once.
   */
  private resyncAll(): void {
    const spreadMs = Math.min(RESYNC_SPREAD_MS, this.byDevice.size);
    for (const { stream } of this.byDevice.values()) {
      if (spreadMs < 2) stream.resync();
      else this.clock.schedule(Math.random() * spreadMs, () => stream.resync());
    }
  }

  private tick(): void {
    const now = this.clock.now();
    for (const { stream } of this.byDevice.values()) stream.tick(now);
    if (!this.stopped) this.cancelTick = this.clock.schedule(CLOCK_MS, () => this.tick());
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.opts.nats.status()) {
      if (this.stopped) return;
      if (status.type === 'reconnect') this.resyncAll();
    }
  }
}

function deviceKey(caller: Caller): string {
  return `${caller.userId}.${caller.deviceId}`;
}
