import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { events, rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { DeviceSchema, type Device } from './device.entity.js';
import { nextDeviceId } from './device-ids.js';
import { newDeviceSecret } from './device-secrets.js';
import { UserSchema, type User } from './user.entity.js';

export interface NewDevice {
  name: string;
  registrationId: number;
  /** The identity key a linked device stated (and its owner approved); none for a primary device. */
  identityKey?: Buffer;
}

function deviceCapReached(max: number) {
  return rpcError.failedPrecondition(`this account already has ${max} devices, the most allowed: revoke one with RevokeDevice first`);
}

/** Refuses early when the account is full, so nobody waits on a link that can't finish; addDevice checks again under its lock. */
export async function requireRoomForDevice(em: EntityManager, deps: AuthDeps, userId: string): Promise<void> {
  if ((await em.count(DeviceSchema, { user: userId })) >= deps.settings.maxDevicesPerAccount) throw deviceCapReached(deps.settings.maxDevicesPerAccount);
}

/**
 * Adds a device to the account, with auth.device.added, in the caller's transaction. The account row
 * is locked first, so concurrent additions take turns: none can take the same id or pass the cap.
 */
export async function addDevice(
  em: EntityManager,
  deps: AuthDeps,
  userId: string,
  input: NewDevice,
  now: Date,
): Promise<{ user: User; device: Device; deviceSecret: string }> {
  const user = await em.findOne(UserSchema, { id: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!user) throw rpcError.notFound('this account no longer exists');
  const devices = await em.find(DeviceSchema, { user: userId });
  const deviceId = devices.length < deps.settings.maxDevicesPerAccount ? nextDeviceId(devices.map((d) => d.deviceId)) : undefined;
  if (deviceId === undefined) throw deviceCapReached(deps.settings.maxDevicesPerAccount);
  const secret = newDeviceSecret();
  const device = em.create(DeviceSchema, {
    id: randomUUID(),
    user,
    deviceId,
    name: input.name,
    registrationId: input.registrationId,
    secretHash: secret.hash,
    createdAt: now,
  });
  deps.outbox.add(em, events.deviceAdded, { userId, deviceId, registrationId: input.registrationId, identityKey: input.identityKey });
  return { user, device, deviceSecret: secret.token };
}
