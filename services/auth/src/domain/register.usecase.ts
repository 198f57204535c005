import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { events, rpcError } from '@parley/platform';
import type { AuthDeps } from './auth-deps.js';
import { hashPassword, parseNewPassword, parseUsername } from './credentials.js';
import { openSession, withAccessToken, type TokenPair } from './sessions.js';
import { UserSchema, type User } from './user.entity.js';

/** Creates the account, its first session and a user.registered event, all in one transaction. */
export async function register(deps: AuthDeps, input: { username: string; password: string }): Promise<{ user: User; tokens: TokenPair }> {
  const username = parseUsername(input.username);
  const password = parseNewPassword(input.password, username);
  const passwordHash = await hashPassword(password, deps.bcryptCost);
  const now = new Date();
  try {
    const { user, session, refresh } = await deps.orm.em.fork().transactional(async (em) => {
      const user = em.create(UserSchema, { id: randomUUID(), username, passwordHash, createdAt: now });
      const { session, ...refresh } = openSession(em, deps, user, now);
      deps.outbox.add(em, events.userRegistered, { userId: user.id, username });
      return { user, session, refresh };
    });
    return { user, tokens: await withAccessToken(deps, user.id, session.id, refresh) };
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw rpcError.alreadyExists(`username '${username}' is taken`);
    throw err;
  }
}
