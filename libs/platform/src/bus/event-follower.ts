import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '@parley/proto';
import type { Logger } from 'pino';
import type { EventType } from '../events/catalog.js';
import { decodeEvent } from '../events/envelope.js';
import { isNotFound } from './stream.js';
import type { Subjects } from './subjects.js';

export interface EventFollower {
  /** Resolves once every event of the type already in the stream (since `since`) was handed over. */
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export interface FollowOptions {
  /** Replay events published from this moment on, then follow live. */
  since: Date;
  log: Logger;
}

/**
 * Feeds every event of one type to an in-memory handler, on every replica: an ordered (ephemeral)
 * consumer, not a durable one, since each process needs all of them and keeps nothing. For state
 * that must survive restarts, use a durable consumer and a database instead.
 */
export async function followEvents<D extends DescMessage>(
  nc: NatsConnection,
  subjects: Subjects,
  type: EventType<D>,
  opts: FollowOptions,
  onEvent: (payload: MessageShape<D>, envelope: EventEnvelope) => void,
): Promise<EventFollower> {
  const subject = subjects.of(type);
  const jsm = await jetstreamManager(nc);
  // The newest event already stored: catching up means reaching it, unless it is older than `since`.
  const target = await jsm.streams.getMessage(subjects.stream, { last_by_subj: subject }).then(
    (m) => (m && m.time >= opts.since ? m.seq : 0),
    (err: unknown) => {
      if (isNotFound(err)) return 0;
      throw err;
    },
  );
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  if (target === 0) markCaughtUp();

  const js = jetstream(nc);
  let stopped = false;
  let stopCurrent: (() => void) | undefined;
  let lastSeq = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        const start =
          lastSeq > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
            : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.since.toISOString() };
        // A single subject as a string: NATS before 2.10 refuses the list form.
        const consumer = await js.consumers.get(subjects.stream, { filter_subjects: subject, ...start });
        const messages = await consumer.consume();
        stopCurrent = () => void messages.close();
        for await (const msg of messages) {
          lastSeq = msg.seq;
          try {
            const { payload, envelope } = decodeEvent(type, msg.data);
            onEvent(payload, envelope);
          } catch (err) {
            opts.log.error({ subject, seq: msg.seq, err: (err as Error).message }, 'undecodable event skipped');
          }
          if (msg.seq >= target) markCaughtUp();
          if (stopped) break;
        }
      } catch (err) {
        if (stopped) break;
        opts.log.warn({ subject, err: (err as Error).message }, 'event follower interrupted; resuming');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  return {
    caughtUp,
    async stop() {
      stopped = true;
      stopCurrent?.();
      await loop;
    },
  };
}
