import { rpcError } from '@parley/platform';
import type { AuthDeps } from './auth-deps.js';
import { hashPassword, verifyPassword } from './credentials.js';
import { openSession, withAccessToken, type TokenPair } from './sessions.js';
import { UserSchema, type User } from './user.entity.js';

const WRONG_CREDENTIALS = 'wrong username or password';

let decoyHash: Promise<string> | undefined;

/**
 * Opens a session for a username and password. An unknown username costs one bcrypt comparison
 * too, and gets the same message, so neither reveals which accounts exist.
 */
export async function login(deps: AuthDeps, input: { username: string; password: string }): Promise<{ user: User; tokens: TokenPair }> {
  if (!input.username || !input.password) throw rpcError.invalidArgument('username and password are required');
  const username = input.username.normalize('NFKC').trim().toLowerCase();
  const em = deps.orm.em.fork();
  const user = username.length <= 64 ? await em.findOne(UserSchema, { username }) : null;
  const hash = user?.passwordHash ?? (await (decoyHash ??= hashPassword('parley-decoy-password', deps.bcryptCost)));
  const ok = await verifyPassword(input.password, hash);
  if (!user || !ok) throw rpcError.unauthenticated(WRONG_CREDENTIALS);
  const now = new Date();
  const { session, ...refresh } = await em.transactional(async (tx) => openSession(tx, deps, tx.getReference(UserSchema, user.id), now));
  return { user, tokens: await withAccessToken(deps, user.id, session.id, refresh) };
}
