import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AuthService, ContactService, DeviceService, KeyService } from '@parley/proto';
import { eventually, startTestStack, type TestStack } from '@parley/testing';
import { SignalDevice } from './signal-device.js';

export const PASSWORD = 'correct horse battery';

export interface Account {
  id: string;
  as: { headers: { authorization: string } };
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

let n = 0;

/** auth and keys as processes, with gRPC clients of both. */
export async function startKeysStack(keysEnv: Record<string, string> = {}): Promise<KeysStack> {
  const stack = await startTestStack({ services: ['auth', 'keys'], env: { auth: { BCRYPT_COST: '4' }, keys: keysEnv } });
  const authTransport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.auth.rpcPort}` });
  const auth = createClient(AuthService, authTransport);
  const devices = createClient(DeviceService, authTransport);
  const contacts = createClient(ContactService, authTransport);
  const keys = createClient(KeyService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.keys.rpcPort}` }));
  const known = (userId: string, deviceId: number) =>
    eventually(
      () => stack.query('keys', 'select 1 from device_projection where user_id = $1 and device_id = $2 and active', [userId, deviceId]),
      (rows) => rows.length === 1,
    );
  return {
    stack,
    auth,
    devices,
    contacts,
    keys,
    async account() {
      const registrationId = 1000 + ++n;
      const res = await auth.register({ username: `keys_${process.pid}_${n}`, password: PASSWORD, registrationId });
      const id = res.user!.id;
      await known(id, 1);
      return { id, as: { headers: { authorization: `Bearer ${res.tokens!.accessToken}` } }, device: new SignalDevice(id, 1, registrationId) };
    },
    async link(owner) {
      const registrationId = 2000 + ++n;
      const { code } = await devices.createLinkCode({}, owner.as);
      const res = await devices.linkDevice({ code, deviceName: `Laptop ${n}`, registrationId, password: PASSWORD });
      if (res.outcome.case !== 'linked') throw new Error('expected the password to link the device');
      const deviceId = res.outcome.value.device!.deviceId;
      await known(owner.id, deviceId);
      return {
        id: owner.id,
        as: { headers: { authorization: `Bearer ${res.outcome.value.tokens!.accessToken}` } },
        device: new SignalDevice(owner.id, deviceId, registrationId),
      };
    },
    cleanup: () => stack.cleanup(),
  };
}
