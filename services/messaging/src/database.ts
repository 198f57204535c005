import { RateLimitBucketSchema, SanctionStandingSchema, type DatabaseSpec } from '@parley/platform';
import { BlockProjectionSchema } from './domain/block-projection.entity.js';
import { ContactProjectionSchema } from './domain/contact-projection.entity.js';
import { DeviceProjectionSchema } from './domain/device-projection.entity.js';
import { ConversationMemberSchema, ConversationSchema } from './domain/conversation.entity.js';
import { MessageSchema } from './domain/message.entity.js';
import { QueuedDeliverySchema } from './domain/queued-delivery.entity.js';
import { StoredItemSchema } from './domain/stored-item.entity.js';
import { MessagingPolicyProjectionSchema } from './domain/messaging-policy-projection.entity.js';
import { UserProjectionSchema } from './domain/user-projection.entity.js';
import { migrations } from './migrations/index.js';

export const database: DatabaseSpec = {
  entities: [
    UserProjectionSchema,
    DeviceProjectionSchema,
    BlockProjectionSchema,
    ContactProjectionSchema,
    MessagingPolicyProjectionSchema,
    ConversationSchema,
    ConversationMemberSchema,
    MessageSchema,
    QueuedDeliverySchema,
    StoredItemSchema,
    RateLimitBucketSchema,
    SanctionStandingSchema,
  ],
  migrations,
};
