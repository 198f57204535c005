import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { encodeEnvelope, packEvent, type EventType } from '@parley/platform';
import type { EventEnvelope } from '@parley/proto';
import type { TestStack } from './test-stack.js';

/**
 * Publishes an event onto the run's stream in the platform's envelope, as `producer` would through
 * its outbox, and waits for JetStream to store it: for tests of a consumer whose producer is not
 * under test. Returns the envelope (its id, its occurred_at).
 */
export async function publishEvent<D extends DescMessage>(
  stack: Pick<TestStack, 'natsUrl' | 'isolation'>,
  producer: string,
  type: EventType<D>,
  payload: MessageInitShape<D>,
): Promise<EventEnvelope> {
  const nc = await connect({ servers: stack.natsUrl });
  try {
    const envelope = packEvent(producer, type, payload);
    await jetstream(nc).publish(stack.isolation.subjects.of(type), encodeEnvelope(envelope));
    return envelope;
  } finally {
    await nc.close();
  }
}
