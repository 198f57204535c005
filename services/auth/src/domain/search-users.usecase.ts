import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { parseUsername } from './credentials.js';
import { requireLiveSession } from './live-session.js';
import { UserSchema, type User } from './user.entity.js';

export const SEARCH_LIMIT = 20;

export interface SearchUsersInput {
  query: string;
  prefix: boolean;
}

/** A username or its first characters, held to the username rules, so a search finds what Register stored. */
export function parseSearchQuery(raw: string): string {
  return parseUsername(raw, 'query');
}

/**
 * Users whose username is `query`, or starts with it, by username: never the caller, nor anyone the
 * caller blocked. Someone who blocked the caller is found like anyone else, so a search can't tell a
 * block (which then refuses as a privacy setting would). Rate limited per caller, since it enumerates users.
 */
export async function searchUsers(deps: AuthDeps, caller: Caller, input: SearchUsersInput): Promise<User[]> {
  const em = deps.orm.em.fork();
  await requireLiveSession(em, caller);
  const query = parseSearchQuery(input.query);
  await deps.rateLimits.searchUsersPerCaller.enforce(caller.userId, 'too many user searches');
  // '_' is a legal username character and a LIKE wildcard, so the pattern escapes it.
  const literal = query.replace(/[\\%_]/g, '\\$&');
  const pattern = input.prefix ? `${literal}%` : literal;
  const rows: Record<string, unknown>[] = await em.execute(
    `select u.* from app_user u
      where u.username like ? escape '\\' and u.id <> ?
        and not exists (select 1 from block b where b.blocker_id = ? and b.blocked_id = u.id)
      order by u.username
      limit ?`,
    [pattern, caller.userId, caller.userId, SEARCH_LIMIT],
  );
  return rows.map((row) => em.map(UserSchema, row));
}
