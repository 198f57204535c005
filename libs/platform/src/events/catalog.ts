import type { DescMessage } from '@bufbuild/protobuf';
import {
  AccountDeletedSchema,
  ContactAddedSchema,
  ContactRemovedSchema,
  DeviceAddedSchema,
  DeviceRevokedSchema,
  IdentityKeyChangedSchema,
  PasswordResetRequestedSchema,
  PreKeysLowSchema,
  PrivacyChangedSchema,
  SessionsRevokedSchema,
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

/** Every event Parley publishes, declared once. Subjects are `<EVENT_PREFIX>.<name>`. */
export const events = {
  userRegistered: eventType('user.registered', UserRegisteredSchema),
  accountDeleted: eventType('account.deleted', AccountDeletedSchema),
  deviceAdded: eventType('device.added', DeviceAddedSchema),
  deviceRevoked: eventType('device.revoked', DeviceRevokedSchema),
  sessionsRevoked: eventType('session.revoked', SessionsRevokedSchema),
  passwordResetRequested: eventType('auth.password_reset.requested', PasswordResetRequestedSchema),
  userBlocked: eventType('user.blocked', UserBlockedSchema),
  userUnblocked: eventType('user.unblocked', UserUnblockedSchema),
  contactAdded: eventType('contact.added', ContactAddedSchema),
  contactRemoved: eventType('contact.removed', ContactRemovedSchema),
  privacyChanged: eventType('privacy.changed', PrivacyChangedSchema),
  preKeysLow: eventType('keys.prekeys.low', PreKeysLowSchema),
  identityKeyChanged: eventType('keys.identity.changed', IdentityKeyChangedSchema),
} as const;

export const allEventTypes: EventType[] = Object.values(events);
