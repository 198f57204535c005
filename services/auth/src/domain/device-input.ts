import { MAX_DEVICE_ID, rpcError } from '@parley/platform';
import { PRIMARY_DEVICE_ID } from './device.entity.js';

export const DEVICE_NAME_MAX = 64;
/** Signal registration ids are 14 bits, and 16381 to 16383 are reserved. */
export const REGISTRATION_ID_MAX = 16380;

export function parseDeviceName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (!name) throw rpcError.invalidArgument('device name is required');
  if ([...name].length > DEVICE_NAME_MAX) throw rpcError.invalidArgument(`device name must be at most ${DEVICE_NAME_MAX} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw rpcError.invalidArgument('device name must not contain control characters');
  return name;
}

export function parseRegistrationId(raw: number): number {
  if (!Number.isInteger(raw) || raw < 1 || raw > REGISTRATION_ID_MAX) {
    throw rpcError.invalidArgument(`registration_id must be between 1 and ${REGISTRATION_ID_MAX}`);
  }
  return raw;
}

export function parseDeviceId(raw: number): number {
  if (!raw) throw rpcError.invalidArgument('device_id is required');
  if (!Number.isInteger(raw) || raw < PRIMARY_DEVICE_ID || raw > MAX_DEVICE_ID) {
    throw rpcError.invalidArgument(`device_id must be between ${PRIMARY_DEVICE_ID} and ${MAX_DEVICE_ID}`);
  }
  return raw;
}
