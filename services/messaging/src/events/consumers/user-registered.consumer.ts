import { timestampDate } from '@bufbuild/protobuf/wkt';
import { defineConsumer, events } from '@parley/platform';
import { UserProjectionSchema } from '../../domain/user-projection.entity.js';

export const userRegisteredConsumer = defineConsumer({
  name: 'user-projection',
  eventType: events.userRegistered,
  async handle(em, user, envelope) {
    em.create(UserProjectionSchema, {
      userId: user.userId,
      username: user.username,
      registeredAt: envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(),
    });
  },
});
