import { rpcError } from '../rpc/errors.js';

/** libsignal's device ids run from 1 (an account's primary device) to this. */
export const MAX_DEVICE_ID = 127;
/** Signal registration ids are 14 bits with 16381 to 16383 reserved, so they run from 1 to this. */
export const MAX_REGISTRATION_ID = 16380;

export function isDeviceId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_DEVICE_ID;
}

/** `value`, or INVALID_ARGUMENT naming `field`: required when 0 (proto3's unset), else in range. */
export function requireDeviceId(value: number, field: string): number {
  return requireInRange(value, field, MAX_DEVICE_ID);
}

/** `value`, or INVALID_ARGUMENT naming `field`: required when 0 (proto3's unset), else in range. */
export function requireRegistrationId(value: number, field: string): number {
  return requireInRange(value, field, MAX_REGISTRATION_ID);
}

function requireInRange(value: number, field: string, max: number): number {
  if (value === 0) throw rpcError.invalidArgument(`${field} is required`);
  if (!Number.isInteger(value) || value < 1 || value > max) throw rpcError.invalidArgument(`${field} must be between 1 and ${max}`);
  return value;
}
