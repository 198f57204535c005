import { KeyFormatError, checkEcPublicKey } from '@parley/crypto';
import { rpcError } from '@parley/platform';

/** A device name as stored: NFC, trimmed. Its length and characters are the contract's (device.proto). */
export function parseDeviceName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (!name) throw rpcError.invalidArgument('device name is required');
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
