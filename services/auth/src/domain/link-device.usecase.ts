import { LockMode } from '@mikro-orm/core';
import { linkVerificationCode } from '@parley/crypto';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireRoomForDevice, type NewDevice } from './add-device.js';
import { parseDeviceName, parseIdentityKey } from './device-input.js';
import { LinkCodeSchema, type LinkCode } from './link-code.entity.js';
import {
  APPROVAL_SECRET_BYTES,
  LINK_CODE_BYTES,
  finishLink,
  newSecret,
  parseSecret,
  redeemLinkCode,
  requireLiveCode,
  type Linked,
} from './link-codes.js';

export interface LinkDeviceInput {
  code: string;
  deviceName: string;
  registrationId: number;
  /** Empty to ask a linked device for approval. */
  password: string;
  identityKey: Uint8Array;
}

/** Either way with the verification code of the stated identity key, for the new device to show. */
export type LinkDeviceOutcome = ({ linked: Linked } | { approvalSecret: string }) & { verificationCode: string };

/** A code takes one request: a second one, with or without password, needs a new code. */
function requireOpenCode(code: LinkCode | null, now: Date): asserts code is LinkCode {
  requireLiveCode(code, now);
  if (code.requestedAt) throw rpcError.failedPrecondition('link code already has a pending request: create a new one on a linked device');
}

/**
 * Redeems a link code from the new device, which states its identity key. With the account's
 * password the device is linked at once; without it, the request is recorded and the new device
 * gets a secret for CompleteLink, which works once a linked device approved that identity key.
 */
export async function linkDevice(deps: AuthDeps, input: LinkDeviceInput): Promise<LinkDeviceOutcome> {
  const codeHash = parseSecret(input.code, 'code', LINK_CODE_BYTES);
  const device = {
    name: parseDeviceName(input.deviceName),
    registrationId: input.registrationId,
    identityKey: parseIdentityKey(input.identityKey),
  };
  const outcome = input.password ? await linkWithPassword(deps, codeHash, device, input.password) : await requestApproval(deps, codeHash, device);
  return { ...outcome, verificationCode: linkVerificationCode(device.identityKey) };
}

async function linkWithPassword(deps: AuthDeps, codeHash: string, device: Required<NewDevice>, password: string): Promise<{ linked: Linked }> {
  // A dead code costs neither a rate-limit token nor a bcrypt comparison.
  const code = await deps.orm.em.fork().findOne(LinkCodeSchema, { codeHash }, { populate: ['user'] });
  requireOpenCode(code, new Date());
  await deps.rateLimits.linkPasswordsPerAccount.enforce(
    code.user.id,
    'too many passwords tried to link a device to this account (leave the password empty to ask a linked device to approve instead)',
  );
  if (!(await deps.passwords.verify(password, code.user.passwordHash))) {
    throw rpcError.unauthenticated("wrong password: enter the account's password, or leave it empty to ask a linked device to approve");
  }
  const now = new Date();
  // The code is locked and checked again: of concurrent redemptions, one links and the rest find it spent.
  const redeemed = await deps.orm.em.fork().transactional(async (em) => {
    const locked = await em.findOne(LinkCodeSchema, { codeHash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    requireOpenCode(locked, now);
    return redeemLinkCode(em, deps, locked, device, now, 'password');
  });
  return { linked: await finishLink(deps, redeemed) };
}

async function requestApproval(deps: AuthDeps, codeHash: string, device: Required<NewDevice>): Promise<{ approvalSecret: string }> {
  const { secret, hash } = newSecret(APPROVAL_SECRET_BYTES);
  const now = new Date();
  await deps.orm.em.fork().transactional(async (em) => {
    const code = await em.findOne(LinkCodeSchema, { codeHash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    requireOpenCode(code, now);
    await requireRoomForDevice(em, deps, code.user.id);
    code.requestedAt = now;
    code.requestedDeviceName = device.name;
    code.requestedRegistrationId = device.registrationId;
    code.requestedIdentityKey = device.identityKey;
    code.approvalSecretHash = hash;
  });
  return { approvalSecret: secret };
}
