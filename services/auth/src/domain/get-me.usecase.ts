import { rpcError, type Caller, type Statement } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import type { Device } from './device.entity.js';
import type { User } from './user.entity.js';

export type Me = {
  user: Pick<User, 'id' | 'username' | 'createdAt' | 'displayName' | 'avatarMediaId'>;
  device: Pick<Device, 'deviceId' | 'name' | 'registrationId' | 'createdAt'>;
};

/** The caller's user and device if its session is live (requireLiveSession's rule), in one prepared statement. */
const LIVE_SESSION: Statement = {
  name: 'auth-get-me',
  text: `select u.id, u.username, u.created_at, u.display_name, u.avatar_media_id,
                d.device_id, d.name as device_name, d.registration_id, d.created_at as device_created_at
           from session s
           join app_user u on u.id = s.user_id
           join device d on d.id = s.device_id
          where s.id = $1 and s.revoked_at is null and s.user_id = $2 and d.device_id = $3`,
};

interface Row {
  id: string;
  username: string;
  created_at: Date;
  display_name: string;
  avatar_media_id: string;
  device_id: number;
  device_name: string;
  registration_id: number;
  device_created_at: Date;
}

/** Called on every app start and often after: one round trip, no ORM. */
export async function getMe(deps: Pick<AuthDeps, 'sql'>, caller: Caller): Promise<Me> {
  const [row] = await deps.sql.query<Row>(LIVE_SESSION, [caller.sessionId, caller.userId, caller.deviceId]);
  if (!row) throw rpcError.unauthenticated('session has ended: log in again');
  return {
    user: { id: row.id, username: row.username, createdAt: row.created_at, displayName: row.display_name, avatarMediaId: row.avatar_media_id },
    device: { deviceId: row.device_id, name: row.device_name, registrationId: row.registration_id, createdAt: row.device_created_at },
  };
}
