import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { addDevice, type NewDevice } from './add-device.js';
import type { Device } from './device.entity.js';
import type { LinkCode } from './link-code.entity.js';
import { openSession, withAccessToken, type TokenPair } from './sessions.js';
import type { User } from './user.entity.js';

/** 128 bits: a code is shown as a QR code or typed, and lives for minutes. */
export const LINK_CODE_BYTES = 16;
/** The approval secret never leaves the new device's memory, so it can be longer. */
export const APPROVAL_SECRET_BYTES = 32;

export interface Linked {
  user: User;
  device: Device;
  tokens: TokenPair;
  /** The new device's own credential, handed out once. */
  deviceSecret: string;
}

export function newSecret(bytes: number): { secret: string; hash: string } {
  const secret = randomBytes(bytes).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

/** Link codes and approval secrets are stored only as their SHA-256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The hash to look a presented secret up by, once it has the shape `newSecret(bytes)` makes. */
export function parseSecret(raw: string, field: string, bytes: number): string {
  const secret = raw.trim();
  if (secret.length !== Math.ceil((bytes * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(secret)) {
    throw rpcError.invalidArgument(`${field} is malformed: copy it again exactly as it was given`);
  }
  return hashSecret(secret);
}

/** Refuses a code that is missing, spent or expired. */
export function requireLiveCode(code: LinkCode | null, now: Date): asserts code is LinkCode {
  if (!code) throw rpcError.notFound('unknown link code: create a new one on a linked device');
  if (code.redeemedAt) throw rpcError.failedPrecondition('link code was already used: create a new one on a linked device');
  if (code.expiresAt <= now) throw rpcError.failedPrecondition('link code has expired: create a new one on a linked device');
}

/** The device that asked to link with the code and awaits approval, if one did. */
export function pendingRequest(code: LinkCode): Required<NewDevice> | undefined {
  if (!code.requestedAt || !code.requestedDeviceName || !code.requestedRegistrationId || !code.requestedIdentityKey) return undefined;
  return { name: code.requestedDeviceName, registrationId: code.requestedRegistrationId, identityKey: code.requestedIdentityKey };
}


/** Spends the locked code on a new device and signs it in, in the caller's transaction. */
export async function redeemLinkCode(
  em: EntityManager,
  deps: AuthDeps,
  code: LinkCode,
  input: NewDevice,
  now: Date,
  proof: 'password' | 'approval',
) {
  await deps.sanctions.require(code.user.id, 'login');
  const { user, device, deviceSecret } = await addDevice(em, deps, code.user.id, input, now);
  code.redeemedAt = now;
  const { caller, refresh } = openSession(em, deps, user, device, now, proof);
  return { user, device, deviceSecret, caller, refresh };
}

/** Hands out the tokens of a committed redemption. */
export async function finishLink(deps: AuthDeps, redeemed: Awaited<ReturnType<typeof redeemLinkCode>>): Promise<Linked> {
  const { user, device, deviceSecret, caller, refresh } = redeemed;
  return { user, device, deviceSecret, tokens: await withAccessToken(deps, caller, refresh) };
}
