import { rpcError } from '@parley/platform';
import type { AuthDeps } from './auth-deps.js';
import { hashPassword, verifyPassword } from './credentials.js';
import { DeviceSchema, PRIMARY_DEVICE_ID, type Device } from './device.entity.js';
import { openSession, withAccessToken, type TokenPair } from './sessions.js';
import { UserSchema, type User } from './user.entity.js';

const WRONG_CREDENTIALS = 'wrong username or password';

let decoyHash: Promise<string> | undefined;

export interface LoginInput {
  username: string;
  password: string;
  deviceId: number;
}

/**
 * Opens a session on one of the account's devices. An unknown username costs one bcrypt comparison
 * too, and gets the same message, so neither reveals which accounts exist.
 */
export async function login(deps: AuthDeps, input: LoginInput): Promise<{ user: User; device: Device; tokens: TokenPair }> {
  if (!input.username || !input.password) throw rpcError.invalidArgument('username and password are required');
  const deviceId = input.deviceId || PRIMARY_DEVICE_ID;
  const username = input.username.normalize('NFKC').trim().toLowerCase();
  const em = deps.orm.em.fork();
  const user = username.length <= 64 ? await em.findOne(UserSchema, { username }) : null;
  const hash = user?.passwordHash ?? (await (decoyHash ??= hashPassword('parley-decoy-password', deps.bcryptCost)));
  const ok = await verifyPassword(input.password, hash);
  if (!user || !ok) throw rpcError.unauthenticated(WRONG_CREDENTIALS);
  const device = await em.findOne(DeviceSchema, { user: user.id, deviceId });
  if (!device) throw rpcError.notFound(`this account has no device ${deviceId}: link it with DeviceService/LinkDevice`);
  const now = new Date();
  const { caller, refresh } = await em.transactional(async (tx) => openSession(tx, deps, user, device, now));
  return { user, device, tokens: await withAccessToken(deps, caller, refresh) };
}
