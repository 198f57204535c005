import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { DeviceSchema, PRIMARY_DEVICE_ID, type Device } from './device.entity.js';
import { checkWithinBudgets } from './failure-budget.js';
import { openSession, withAccessToken, type TokenPair } from './sessions.js';
import { UserSchema, type User } from './user.entity.js';

const WRONG_CREDENTIALS = 'wrong username or password';
/** No username is longer; the cap also keeps rate-limit keys small. */
const LOOKUP_MAX = 64;

let decoyHash: Promise<string> | undefined;

export interface LoginInput {
  username: string;
  password: string;
  deviceId: number;
  /** The app's address, from the edge, or 'unknown'. */
  clientAddress: string;
}

/**
 * Opens a session on one of the account's devices. An unknown username costs one bcrypt comparison
 * too, spends the same failure budget, and gets the same message, so none of it reveals which
 * accounts exist. Failed logins are limited per username and per client address.
 */
export async function login(deps: AuthDeps, input: LoginInput): Promise<{ user: User; device: Device; tokens: TokenPair }> {
  const deviceId = input.deviceId || PRIMARY_DEVICE_ID;
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
  const device = await em.findOne(DeviceSchema, { user: user.id, deviceId });
  if (!device) throw rpcError.notFound(`this account has no device ${deviceId}: link it with DeviceService/LinkDevice`);
  const now = new Date();
  const { caller, refresh } = await em.transactional(async (tx) => openSession(tx, deps, user, device, now, 'password'));
  return { user, device, tokens: await withAccessToken(deps, caller, refresh) };
}
