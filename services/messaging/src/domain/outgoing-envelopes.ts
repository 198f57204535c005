import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { canonicalUuid, rpcError } from '@parley/platform';
import { CiphertextType, DeviceAddressSchema, DeviceMismatchSchema, type DeviceAddress, type DeviceMismatch, type OutgoingEnvelope } from '@parley/proto';
import type { DeviceRef } from '../events/live-signals.js';
import { deviceKey } from './message.entity.js';

export interface EnvelopeLimits {
  envelopeMaxBytes: number;
  messageMaxBytes: number;
}

/** An envelope that passed validation, its recipient's user id normalized. */
export interface ValidEnvelope extends DeviceRef {
  registrationId: number;
  type: CiphertextType;
  ciphertext: Uint8Array;
}

/** A device a send must address, with the registration id its envelope must carry. */
export interface ExpectedDevice extends DeviceRef {
  registrationId: number;
}

/**
 * The envelopes, checked for what the contract (OutgoingEnvelope's field rules) can't say: sizes
 * within the operator's limits and one envelope per device. Whether they match the conversation's devices is `requireMatchingDevices`'s job.
 */
export function validEnvelopes(envelopes: OutgoingEnvelope[], limits: EnvelopeLimits): ValidEnvelope[] {
  const seen = new Set<string>();
  let totalBytes = 0;
  const valid = envelopes.map((e, i): ValidEnvelope => {
    const field = `envelopes[${i}]`;
    const userId = canonicalUuid(e.recipientUserId);
    if (e.ciphertext.length > limits.envelopeMaxBytes) {
      throw rpcError.resourceExhausted(`${field}.ciphertext is ${e.ciphertext.length} bytes; an envelope holds at most ${limits.envelopeMaxBytes}`);
    }
    const key = deviceKey(userId, e.recipientDeviceId);
    if (seen.has(key)) throw rpcError.invalidArgument(`${field} is a second envelope for device ${e.recipientDeviceId} of user ${userId}`);
    seen.add(key);
    totalBytes += e.ciphertext.length;
    return { userId, deviceId: e.recipientDeviceId, registrationId: e.registrationId, type: e.type, ciphertext: e.ciphertext };
  });
  if (totalBytes > limits.messageMaxBytes) {
    throw rpcError.resourceExhausted(`the envelopes hold ${totalBytes} bytes of ciphertext; a message holds at most ${limits.messageMaxBytes}`);
  }
  return valid;
}

/** How `envelopes` differ from the devices they must address; undefined when they match exactly. */
export function deviceMismatch(expected: ExpectedDevice[], envelopes: ValidEnvelope[]): DeviceMismatch | undefined {
  const given = new Map(envelopes.map((e) => [deviceKey(e.userId, e.deviceId), e]));
  const wanted = new Map(expected.map((d) => [deviceKey(d.userId, d.deviceId), d]));
  const missing = expected.filter((d) => !given.has(deviceKey(d.userId, d.deviceId)));
  const extra = envelopes.filter((e) => !wanted.has(deviceKey(e.userId, e.deviceId)));
  const stale = envelopes.filter((e) => {
    const device = wanted.get(deviceKey(e.userId, e.deviceId));
    return device !== undefined && device.registrationId !== e.registrationId;
  });
  if (missing.length + extra.length + stale.length === 0) return undefined;
  return create(DeviceMismatchSchema, { missingDevices: addresses(missing), extraDevices: addresses(extra), staleDevices: addresses(stale) });
}

/** FAILED_PRECONDITION with a DeviceMismatch detail unless `envelopes` address exactly `expected`. */
export function requireMatchingDevices(expected: ExpectedDevice[], envelopes: ValidEnvelope[]): void {
  const mismatch = deviceMismatch(expected, envelopes);
  if (!mismatch) return;
  const lists = `missing ${listed(mismatch.missingDevices)}; extra ${listed(mismatch.extraDevices)}; stale ${listed(mismatch.staleDevices)}`;
  throw new ConnectError(`envelopes don't match the conversation's devices: ${lists}; fetch keys and retry`, Code.FailedPrecondition, undefined, [
    { desc: DeviceMismatchSchema, value: mismatch },
  ]);
}

/** Most devices of one kind the message names; the DeviceMismatch detail always holds them all. */
const LISTED_DEVICES = 20;

/** The devices as "[user_id/device_id, …]" for the message, so a client that reads only JSON sees them. */
function listed(devices: DeviceAddress[]): string {
  const named = devices.slice(0, LISTED_DEVICES).map((d) => `${d.userId}/${d.deviceId}`);
  const more = devices.length - named.length;
  return `[${named.join(', ')}${more > 0 ? `, and ${more} more` : ''}]`;
}

/** Sorted by user, then device, so a client (and a test) sees one order. */
function addresses(devices: DeviceRef[]): DeviceAddress[] {
  return [...devices]
    .sort((a, b) => (a.userId === b.userId ? a.deviceId - b.deviceId : a.userId < b.userId ? -1 : 1))
    .map(({ userId, deviceId }) => create(DeviceAddressSchema, { userId, deviceId }));
}
