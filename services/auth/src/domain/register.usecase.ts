import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { events, rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { parseNewPassword, parseUsername } from './credentials.js';
import { DeviceSchema, PRIMARY_DEVICE_ID, type Device } from './device.entity.js';
import { parseDeviceName } from './device-input.js';
import { newDeviceSecret } from './device-secrets.js';
import { openSession, withAccessToken, type TokenPair } from './sessions.js';
import { UserSchema, type User } from './user.entity.js';

export interface RegisterInput {
  username: string;
  password: string;
  registrationId: number;
  deviceName: string;
  /** The caller's address as a rate-limit subject. */
  clientAddress: string;
  /** Only when the proof of work is on: a challenge from GetRegistrationChallenge and its solution. */
  challenge: string;
  challengeSolution: Uint8Array;
}

/**
 * Creates the account, its primary device and that device's first session, with auth.user.registered
 * and auth.device.added, all in one transaction. Every attempt with valid input counts against its
 * address's limit and, when the proof of work is on, must spend a solved challenge, both before the
 * password is hashed (the costly part).
 */
export async function register(deps: AuthDeps, input: RegisterInput): Promise<{ user: User; device: Device; tokens: TokenPair; deviceSecret: string }> {
  const username = parseUsername(input.username);
  const password = parseNewPassword(input.password, username);
  const registrationId = input.registrationId;
  const deviceName = input.deviceName ? parseDeviceName(input.deviceName) : 'Primary device';
  await deps.rateLimits.registrationsPerAddress.enforce(input.clientAddress, 'too many accounts registered from this address');
  await deps.challenges.redeem(deps.orm.em.fork() as EntityManager, input.challenge, input.challengeSolution);
  const passwordHash = await deps.passwords.hash(password);
  const now = new Date();
  const secret = newDeviceSecret();
  try {
    const { user, device, caller, refresh } = await deps.orm.em.fork().transactional(async (em) => {
      const user = em.create(UserSchema, {
        id: randomUUID(),
        username,
        passwordHash,
        createdAt: now,
        displayName: '',
        avatarMediaId: '',
        messagingPolicy: 'everyone',
        groupAddPolicy: 'everyone',
      });
      const device = em.create(DeviceSchema, {
        id: randomUUID(),
        user,
        deviceId: PRIMARY_DEVICE_ID,
        name: deviceName,
        registrationId,
        secretHash: secret.hash,
        createdAt: now,
      });
      const { caller, refresh } = openSession(em, deps, user, device, now, 'password');
      deps.outbox.add(em, events.userRegistered, { userId: user.id, username });
      deps.outbox.add(em, events.deviceAdded, { userId: user.id, deviceId: device.deviceId, registrationId });
      return { user, device, caller, refresh };
    });
    return { user, device, tokens: await withAccessToken(deps, caller, refresh), deviceSecret: secret.token };
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw rpcError.alreadyExists(`username '${username}' is taken`);
    throw err;
  }
}
