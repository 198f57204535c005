import type { DescMessage } from '@bufbuild/protobuf';
import {
  AccountDeletedSchema,
  ContactAddedSchema,
  ContactRemovedSchema,
  ConversationMembersChangedSchema,
  DeviceAddedSchema,
  DeviceRevokedSchema,
  IdentityKeyChangedSchema,
  MessageSentSchema,
  PasswordResetRequestedSchema,
  PreKeysLowSchema,
  PrivacyChangedSchema,
  SanctionChangedSchema,
  SessionsRevokedSchema,
  SigningKeyRemovedSchema,
  UserBlockedSchema,
  UserRegisteredSchema,
  UserUnblockedSchema,
} from '@parley/proto';

/** A kind of domain event: the subject suffix it travels on and the proto message it carries. */
export interface EventType<D extends DescMessage = DescMessage> {
  readonly name: string;
  readonly schema: D;
}

function eventType<D extends DescMessage>(name: string, schema: D): EventType<D> {
  return { name, schema };
}

/**
 * Every event Parley publishes, declared once. Subjects are `<EVENT_PREFIX>.<name>`; a name is
 * `<producer>.<entity>.<verb>`: the publishing service, the thing that changed (snake_case), and
 * what happened to it in the past tense, since an event reports a committed fact, never a request.
 * catalog.spec.ts holds every name to it. Keys are the proto messages' names in camelCase.
 */
export const events = {
  userRegistered: eventType('auth.user.registered', UserRegisteredSchema),
  accountDeleted: eventType('auth.account.deleted', AccountDeletedSchema),
  deviceAdded: eventType('auth.device.added', DeviceAddedSchema),
  deviceRevoked: eventType('auth.device.revoked', DeviceRevokedSchema),
  sessionsRevoked: eventType('auth.session.revoked', SessionsRevokedSchema),
  passwordResetRequested: eventType('auth.password_reset.requested', PasswordResetRequestedSchema),
  userBlocked: eventType('auth.user.blocked', UserBlockedSchema),
  userUnblocked: eventType('auth.user.unblocked', UserUnblockedSchema),
  contactAdded: eventType('auth.contact.added', ContactAddedSchema),
  contactRemoved: eventType('auth.contact.removed', ContactRemovedSchema),
  privacyChanged: eventType('auth.privacy.changed', PrivacyChangedSchema),
  signingKeyRemoved: eventType('auth.signing_key.removed', SigningKeyRemovedSchema),
  preKeysLow: eventType('keys.pre_keys.ran_low', PreKeysLowSchema),
  identityKeyChanged: eventType('keys.identity_key.changed', IdentityKeyChangedSchema),
  conversationMembersChanged: eventType('messaging.conversation_members.changed', ConversationMembersChangedSchema),
  messageSent: eventType('messaging.message.sent', MessageSentSchema),
  sanctionChanged: eventType('moderation.sanction.changed', SanctionChangedSchema),
} as const;

export const allEventTypes: EventType[] = Object.values(events);
