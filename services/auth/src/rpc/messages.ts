import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  DeviceSchema as DeviceMessage,
  LinkedDeviceSchema,
  SessionSchema as SessionMessage,
  TokenPairSchema,
  UserSchema as UserMessage,
} from '@parley/proto';
import type { Device } from '../domain/device.entity.js';
import type { Linked } from '../domain/link-codes.js';
import type { Session } from '../domain/session.entity.js';
import type { TokenPair } from '../domain/sessions.js';
import type { User } from '../domain/user.entity.js';

/** Domain objects as the public API shows them. */
export const toUser = (u: User) =>
  create(UserMessage, {
    id: u.id,
    username: u.username,
    createdAt: timestampFromDate(u.createdAt),
    displayName: u.displayName,
    avatarMediaId: u.avatarMediaId,
  });

export const toDevice = (d: Device, currentDeviceId?: number) =>
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
  create(LinkedDeviceSchema, { user: toUser(l.user), device: toDevice(l.device, l.device.deviceId), tokens: toTokens(l.tokens) });

export const toSession = (s: Session, currentSessionId: string) =>
  create(SessionMessage, {
    id: s.id,
    deviceId: s.device.deviceId,
    deviceName: s.device.name,
    createdAt: timestampFromDate(s.createdAt),
    lastRefreshedAt: s.lastRefreshedAt ? timestampFromDate(s.lastRefreshedAt) : undefined,
    current: s.id === currentSessionId,
  });
