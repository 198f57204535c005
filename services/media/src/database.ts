import { RateLimitBucketSchema, type DatabaseSpec } from '@parley/platform';
import { AttachmentGrantSchema, AttachmentSchema } from './domain/attachment.entity.js';
import { ConversationMembersSchema } from './domain/conversation-members.entity.js';
import { migrations } from './migrations/index.js';

export const database: DatabaseSpec = {
  entities: [AttachmentSchema, AttachmentGrantSchema, ConversationMembersSchema, RateLimitBucketSchema],
  migrations,
};
