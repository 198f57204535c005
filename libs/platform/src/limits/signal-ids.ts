/**
 * libsignal's device ids run from 1 (an account's primary device) to this. Requests state it in
 * their field rules (`uint32.lte`), which `limits-in-proto.spec.ts` holds to this value.
 */
export const MAX_DEVICE_ID = 127;
/** Signal registration ids are 14 bits with 16381 to 16383 reserved, so they run from 1 to this. */
export const MAX_REGISTRATION_ID = 16380;

export function isDeviceId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_DEVICE_ID;
}
