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
