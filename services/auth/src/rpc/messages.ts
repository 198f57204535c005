import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ContactRequestSchema as ContactRequestMessage,
  ContactSchema as ContactMessage,
  DeviceSchema as DeviceMessage,
  LinkedDeviceSchema,
  MessagingPolicy,
  SessionSchema as SessionMessage,
  TokenPairSchema,
  UserSchema as UserMessage,
} from '@parley/proto';
import type { Contact, ContactRequest } from '../domain/contact.entity.js';
import type { Device } from '../domain/device.entity.js';
import type { Linked } from '../domain/link-codes.js';
import type { Session } from '../domain/session.entity.js';
import type { TokenPair } from '../domain/sessions.js';
import type { MessagingPolicyName, User } from '../domain/user.entity.js';

/** Domain objects as the public API shows them. */
export const toUser = (u: Pick<User, 'id' | 'username' | 'createdAt' | 'displayName' | 'avatarMediaId'>) =>
  create(UserMessage, {
    id: u.id,
    username: u.username,
    createdAt: timestampFromDate(u.createdAt),
    displayName: u.displayName,
    avatarMediaId: u.avatarMediaId,
  });

export const toDevice = (d: Pick<Device, 'deviceId' | 'name' | 'registrationId' | 'createdAt'>, currentDeviceId?: number) =>
  create(DeviceMessage, {
    deviceId: d.deviceId,
    name: d.name,
    registrationId: d.registrationId,
    createdAt: timestampFromDate(d.createdAt),
    current: d.deviceId === currentDeviceId,
  });

export const toTokens = (t: TokenPair) =>
  create(TokenPairSchema, {
    accessToken: t.accessToken,
    accessTokenExpiresAt: timestampFromDate(t.accessTokenExpiresAt),
    refreshToken: t.refreshToken,
    refreshTokenExpiresAt: timestampFromDate(t.refreshTokenExpiresAt),
  });

/** A just-linked device is the caller's current one. */
export const toLinkedDevice = (l: Linked) =>
  create(LinkedDeviceSchema, { user: toUser(l.user), device: toDevice(l.device, l.device.deviceId), tokens: toTokens(l.tokens), deviceSecret: l.deviceSecret });

export const toSession = (s: Session, currentSessionId: string) =>
  create(SessionMessage, {
    id: s.id,
    deviceId: s.device.deviceId,
    deviceName: s.device.name,
    createdAt: timestampFromDate(s.createdAt),
    lastRefreshedAt: s.lastRefreshedAt ? timestampFromDate(s.lastRefreshedAt) : undefined,
    current: s.id === currentSessionId,
  });

export const toContact = (c: Contact) => create(ContactMessage, { user: toUser(c.contact), since: timestampFromDate(c.since) });

export const toContactRequest = (r: ContactRequest) =>
  create(ContactRequestMessage, { from: toUser(r.from), to: toUser(r.to), createdAt: timestampFromDate(r.createdAt) });

export const toMessagingPolicy = (p: MessagingPolicyName) =>
  p === 'contacts_only' ? MessagingPolicy.CONTACTS_ONLY : MessagingPolicy.EVERYONE;

/** The contract admits EVERYONE and CONTACTS_ONLY only. */
export function parseMessagingPolicy(p: MessagingPolicy): MessagingPolicyName {
  return p === MessagingPolicy.CONTACTS_ONLY ? 'contacts_only' : 'everyone';
}
