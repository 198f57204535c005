import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireLiveSession } from './live-session.js';
import { parseDisplayName } from './profile-input.js';
import type { User } from './user.entity.js';

export interface UpdateProfileInput {
  displayName: string;
  avatarMediaId: string;
}

/** Sets both profile fields of the caller's account; an empty one is cleared. */
export async function updateProfile(deps: AuthDeps, caller: Caller, input: UpdateProfileInput): Promise<User> {
  const em = deps.orm.em.fork();
  const { user } = await requireLiveSession(em, caller);
  user.displayName = parseDisplayName(input.displayName);
  user.avatarMediaId = input.avatarMediaId;
  await em.flush();
  return user;
}
