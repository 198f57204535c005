import { KeyFormatError, checkEcPublicKey } from '@parley/crypto';
import { rpcError } from '@parley/platform';

export const DEVICE_NAME_MAX = 64;

export function parseDeviceName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (!name) throw rpcError.invalidArgument('device name is required');
  if ([...name].length > DEVICE_NAME_MAX) throw rpcError.invalidArgument(`device name must be at most ${DEVICE_NAME_MAX} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw rpcError.invalidArgument('device name must not contain control characters');
  return name;
}

/** The new device's identity key, as libsignal serializes it (INVALID_ARGUMENT otherwise). */
export function parseIdentityKey(raw: Uint8Array): Buffer {
  if (raw.length === 0) throw rpcError.invalidArgument("identity_key is required: the new device's identity public key");
  try {
    checkEcPublicKey(raw, 'identity_key');
  } catch (err) {
    if (err instanceof KeyFormatError) throw rpcError.invalidArgument(err.message);
    throw err;
  }
  return Buffer.from(raw);
}
