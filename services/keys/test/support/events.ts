import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { connect } from '@nats-io/transport-node';
import { decodeEvent, type EventType } from '@parley/platform';
import type { TestStack } from '@parley/testing';

export interface EventLog<D extends DescMessage> {
  readonly seen: MessageShape<D>[];
  close(): Promise<void>;
}

/** Every event of `type` published from now on, in order of arrival. */
export async function recordEvents<D extends DescMessage>(stack: TestStack, type: EventType<D>): Promise<EventLog<D>> {
  const nc = await connect({ servers: stack.natsUrl });
  const seen: MessageShape<D>[] = [];
  const sub = nc.subscribe(stack.isolation.subjects.of(type));
  void (async () => {
    for await (const msg of sub) seen.push(decodeEvent(type, msg.data).payload);
  })();
  await nc.flush();
  return { seen, close: () => nc.close() };
}
