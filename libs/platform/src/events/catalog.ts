import type { DescMessage } from '@bufbuild/protobuf';
import { UserRegisteredSchema } from '@parley/proto';

/** A kind of domain event: the subject suffix it travels on and the proto message it carries. */
export interface EventType<D extends DescMessage = DescMessage> {
  readonly name: string;
  readonly schema: D;
}

function eventType<D extends DescMessage>(name: string, schema: D): EventType<D> {
  return { name, schema };
}

/** Every event Parley publishes, declared once. Subjects are `<EVENT_PREFIX>.<name>`. */
export const events = {
  userRegistered: eventType('user.registered', UserRegisteredSchema),
} as const;

export const allEventTypes: EventType[] = Object.values(events);
