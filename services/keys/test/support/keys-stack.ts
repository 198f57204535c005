import type { CallOptions, Client } from '@connectrpc/connect';
import { AuthService, ContactService, DeviceService, KeyService } from '@parley/proto';
import { Accounts, serviceClient, startTestStack, untilDevicesKnown, type SignedInDevice, type TestStack } from '@parley/testing';
import { SignalDevice } from './signal-device.js';

export interface Account {
  id: string;
  as: CallOptions;
  device: SignalDevice;
}

export interface KeysStack {
  stack: TestStack;
  auth: Client<typeof AuthService>;
  devices: Client<typeof DeviceService>;
  contacts: Client<typeof ContactService>;
  keys: Client<typeof KeyService>;
  /** A registered account whose device keys already knows about. */
  account(): Promise<Account>;
  /** A second device of `owner`, linked with the password, that keys already knows about. */
  link(owner: Account): Promise<Account>;
  cleanup(): Promise<void>;
}

/** auth and keys as processes, with gRPC clients of both. */
export async function startKeysStack(keysEnv: Record<string, string> = {}): Promise<KeysStack> {
  const stack = await startTestStack({ services: ['auth', 'keys'], env: { auth: { BCRYPT_COST: '4' }, keys: keysEnv } });
  const auth = serviceClient(AuthService, stack, 'auth');
  const devices = serviceClient(DeviceService, stack, 'auth');
  const accounts = new Accounts({ auth, devices });
  const known = async (device: SignedInDevice): Promise<Account> => {
    await untilDevicesKnown(stack, 'keys', [device]);
    return { id: device.userId, as: device.as, device: new SignalDevice(device.userId, device.deviceId, device.registrationId, device.identity) };
  };
  return {
    stack,
    auth,
    devices,
    contacts: serviceClient(ContactService, stack, 'auth'),
    keys: serviceClient(KeyService, stack, 'keys'),
    account: async () => known(await accounts.register()),
    link: async (owner) => known(await accounts.linkWithPassword(owner)),
    cleanup: () => stack.cleanup(),
  };
}
