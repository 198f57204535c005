import type { Client } from '@connectrpc/connect';
import { KeyService } from '@parley/proto';
import { edgeClient, untilDevicesKnown, type SignedInDevice, type TestStack } from '@parley/testing';
import { SignalDevice, type GeneratedKeys } from './signal-client.js';

/** A signed-in device with its libsignal keys published, and a KeyService client through the edge. */
export interface KeyedDevice {
  account: SignedInDevice;
  signal: SignalDevice;
  keys: Client<typeof KeyService>;
}

/**
 * Gives `account` libsignal keys and uploads them once keys knows the device (it learns devices
 * from the auth.device.added events; until then an upload is FAILED_PRECONDITION). 20 one-time keys
 * of each kind keep the device above keys' low-water mark, so no PreKeysLow notice joins its queue.
 */
export async function withSignalKeys(stack: TestStack, account: SignedInDevice, counts: GeneratedKeys = { preKeys: 20, pqPreKeys: 20 }): Promise<KeyedDevice> {
  const signal = new SignalDevice(account.userId, account.deviceId, account.registrationId, account.identity);
  const keys = edgeClient(KeyService, stack.edgeUrl, { accessToken: account.tokens.accessToken });
  await untilDevicesKnown(stack, 'keys', [account]);
  await keys.uploadKeys(signal.uploadRequest(counts));
  return { account, signal, keys };
}
