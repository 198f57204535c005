import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { KeyService } from '@parley/proto';
import { edgeClient, eventually, type TestStack } from '@parley/testing';
import type { SignedInDevice } from './accounts.js';
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
  const { device } = await account.auth.getMe({});
  const signal = new SignalDevice(account.user.id, account.deviceId, device!.registrationId);
  const keys = edgeClient(KeyService, stack.edgeUrl, { accessToken: account.tokens.accessToken });
  const request = signal.uploadRequest(counts);
  const outcome = await eventually(
    () => keys.uploadKeys(request).catch((err) => ConnectError.from(err)),
    (res) => !(res instanceof ConnectError && res.code === Code.FailedPrecondition),
  );
  if (outcome instanceof ConnectError) throw outcome;
  return { account, signal, keys };
}
