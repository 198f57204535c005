import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ContactRequestSchema as ContactRequestMessage,
  ContactSchema as ContactMessage,
  DeviceSchema as DeviceMessage,
  GroupAddPolicy,
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
import type { PrivacySettings } from '../domain/set-privacy.usecase.js';
import type { GroupAddPolicyName, MessagingPolicyName, User } from '../domain/user.entity.js';

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

/** A set messaging policy: the contract admits EVERYONE and CONTACTS_ONLY besides UNSPECIFIED. */
export function parseMessagingPolicy(p: MessagingPolicy): MessagingPolicyName {
  return p === MessagingPolicy.CONTACTS_ONLY ? 'contacts_only' : 'everyone';
}

const GROUP_ADD_POLICIES: [GroupAddPolicy, GroupAddPolicyName][] = [
  [GroupAddPolicy.EVERYONE, 'everyone'],
  [GroupAddPolicy.CONTACTS, 'contacts'],
  [GroupAddPolicy.NOBODY, 'nobody'],
];

export const toGroupAddPolicy = (p: GroupAddPolicyName) => GROUP_ADD_POLICIES.find(([, name]) => name === p)![0];

export const toPrivacy = (p: PrivacySettings) => ({ messagingPolicy: toMessagingPolicy(p.messagingPolicy), groupAddPolicy: toGroupAddPolicy(p.groupAddPolicy) });

/** SetPrivacy's change. The contract admits known values only, at least one of them set; UNSPECIFIED leaves a setting as it is. */
export function parsePrivacyChange(req: { messagingPolicy: MessagingPolicy; groupAddPolicy: GroupAddPolicy }): Partial<PrivacySettings> {
  const change: Partial<PrivacySettings> = {};
  if (req.messagingPolicy !== MessagingPolicy.UNSPECIFIED) change.messagingPolicy = parseMessagingPolicy(req.messagingPolicy);
  const groupAddPolicy = GROUP_ADD_POLICIES.find(([p]) => p === req.groupAddPolicy)?.[1];
  if (groupAddPolicy) change.groupAddPolicy = groupAddPolicy;
  return change;
}
