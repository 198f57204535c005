import { rpcError } from '@parley/platform';

/** A device name as stored: NFC, trimmed. Its length and characters are the contract's (device.proto). */
export function parseDeviceName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (!name) throw rpcError.invalidArgument('device name is required');
  return name;
}
