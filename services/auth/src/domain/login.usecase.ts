import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { addDevice, type NewDevice } from './add-device.js';
import { DeviceSchema, type Device } from './device.entity.js';
import { parseDeviceName, parseIdentityKey } from './device-input.js';
import { deviceSecretMatches } from './device-secrets.js';
import { checkWithinBudgets } from './failure-budget.js';
import { openSession, withAccessToken, type TokenPair } from './sessions.js';
import { UserSchema, type User } from './user.entity.js';

const WRONG_CREDENTIALS = 'wrong username or password';
/** No username is longer; the cap also keeps rate-limit keys small. */
const LOOKUP_MAX = 64;
const NEW_DEVICE_NAME = 'New device';

let decoyHash: Promise<string> | undefined;

export interface LoginInput {
  username: string;
  password: string;
  /** 0 adds a new device; else the existing device to sign in again, with its own secret. */
  deviceId: number;
  deviceSecret: string;
  /** For a new device. */
  registrationId: number;
  deviceName: string;
  identityKey: Uint8Array;
  /** The app's address, from the edge, or 'unknown'. */
  clientAddress: string;
}

export interface LoggedIn {
  user: User;
  device: Device;
  tokens: TokenPair;
  /** The new device's own credential; empty when an existing device signed in again. */
  deviceSecret: string;
}

type Target = { existing: number; secret: string } | { added: NewDevice };

/** A new device needs its registration id (the contract bounds it, and lets 0 through for a device that signs in again). */
function requireNewDeviceRegistrationId(registrationId: number): number {
  if (registrationId === 0) throw rpcError.invalidArgument('registration_id is required to add a new device (or name an existing one with device_id)');
  return registrationId;
}

/**
 * What the request asks for, checked before any password is: a new device, or an existing one with
 * its secret. The contract bounds the ids; which of them is required depends on the target.
 */
function parseTarget(input: LoginInput): Target {
  if (input.deviceId) {
    const existing = input.deviceId;
    if (!input.deviceSecret) {
      throw rpcError.invalidArgument(
        `device_secret is required to sign device ${existing} in again (the password alone adds a new device: leave device_id 0)`,
      );
    }
    return { existing, secret: input.deviceSecret };
  }
  return {
    added: {
      name: input.deviceName ? parseDeviceName(input.deviceName) : NEW_DEVICE_NAME,
      registrationId: requireNewDeviceRegistrationId(input.registrationId),
      identityKey: input.identityKey.length > 0 ? parseIdentityKey(input.identityKey) : undefined,
    },
  };
}

/**
 * Signs in with the password: on a new device of the account, or on an existing device that also
 * presents its own secret. The password alone never opens a session on an existing device, so it
 * can't replace that device's stream or ack away its queue. An unknown username costs one bcrypt
 * comparison too, spends the same failure budget, and gets the same message, so none of it reveals
 * which accounts exist. Failed logins are limited per username and per client address.
 */
export async function login(deps: AuthDeps, input: LoginInput): Promise<LoggedIn> {
  const target = parseTarget(input);
  const username = input.username.normalize('NFKC').trim().toLowerCase().slice(0, LOOKUP_MAX);
  const em = deps.orm.em.fork();
  const budgets = [
    { limiter: deps.rateLimits.loginFailuresPerAccount, subject: username, exhausted: 'too many failed logins for this username' },
    { limiter: deps.rateLimits.loginFailuresPerAddress, subject: input.clientAddress, exhausted: 'too many failed logins from this address' },
  ];
  const user = await checkWithinBudgets(budgets, async () => {
    const found = await em.findOne(UserSchema, { username });
    const hash = found?.passwordHash ?? (await (decoyHash ??= deps.passwords.hash('parley-decoy-password')));
    return (await deps.passwords.verify(input.password, hash)) ? found : null;
  });
  if (!user) throw rpcError.unauthenticated(WRONG_CREDENTIALS);
  const now = new Date();
  if ('added' in target) {
    // Only whoever knows the password learns of the sanction.
    await deps.sanctions.require(user.id, 'login');
    const opened = await em.transactional(async (tx) => {
      const { device, deviceSecret } = await addDevice(tx, deps, user.id, target.added, now);
      return { device, deviceSecret, ...openSession(tx, deps, user, device, now, 'password') };
    });
    return { user, device: opened.device, deviceSecret: opened.deviceSecret, tokens: await withAccessToken(deps, opened.caller, opened.refresh) };
  }
  const device = await em.findOne(DeviceSchema, { user: user.id, deviceId: target.existing });
  // A missing device and a wrong secret answer alike: the secret is what proves the device.
  if (!device || !deviceSecretMatches(target.secret, device.secretHash)) {
    throw rpcError.unauthenticated(`wrong device_secret for device ${target.existing}: sign in with device_id 0 to add a new device`);
  }
  await deps.sanctions.require(user.id, 'login');
  const { caller, refresh } = await em.transactional(async (tx) => openSession(tx, deps, user, device, now, 'password'));
  return { user, device, deviceSecret: '', tokens: await withAccessToken(deps, caller, refresh) };
}
