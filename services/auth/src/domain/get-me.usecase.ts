import { Batcher, rpcError, type Caller, type SqlPool, type Statement } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import type { Device } from './device.entity.js';
import type { User } from './user.entity.js';

export type Me = {
  user: Pick<User, 'id' | 'username' | 'createdAt' | 'displayName' | 'avatarMediaId'>;
  device: Pick<Device, 'deviceId' | 'name' | 'registrationId' | 'createdAt'>;
};

export function getMe(deps: Pick<AuthDeps, 'me'>, caller: Caller): Promise<Me> {
  return deps.me.find(caller);
}

/** The live sessions among `$1`, with their users and devices (a session's liveness is requireLiveSession's rule). */
const LIVE_SESSIONS: Statement = {
  name: 'auth-live-sessions',
  text: `select s.id as session_id, s.user_id, u.username, u.created_at, u.display_name, u.avatar_media_id,
                d.device_id, d.name as device_name, d.registration_id, d.created_at as device_created_at
           from session s
           join app_user u on u.id = s.user_id
           join device d on d.id = s.device_id
          where s.id = any($1::uuid[]) and s.revoked_at is null`,
};

interface Row {
  session_id: string;
  user_id: string;
  username: string;
  created_at: Date;
  display_name: string;
  avatar_media_id: string;
  device_id: number;
  device_name: string;
  registration_id: number;
  device_created_at: Date;
}

/** Most sessions one query reads. */
const MAX_BATCH = 64;

/**
 * GetMe, called on every app start and often after, reads in batches: the callers whose calls
 * arrive while a query runs are read together by the next one, so a busy auth sends PostgreSQL
 * one query for many calls instead of one each. Under no load a call is read alone, at once.
 */
export class MeReader {
  private readonly batcher: Batcher<Caller, Me>;

  constructor(sql: SqlPool) {
    this.batcher = new Batcher((callers) => read(sql, callers), { maxBatch: MAX_BATCH, concurrency: 1 });
  }

  /** The caller's user and device, or UNAUTHENTICATED once its session has ended. */
  find(caller: Caller): Promise<Me> {
    return this.batcher.submit(caller);
  }
}

async function read(sql: SqlPool, callers: Caller[]): Promise<(Me | Error)[]> {
  const rows = await sql.query<Row>(LIVE_SESSIONS, [[...new Set(callers.map((c) => c.sessionId))]]);
  const bySession = new Map(rows.map((r) => [r.session_id, r]));
  return callers.map((caller) => {
    const row = bySession.get(caller.sessionId);
    if (!row || row.user_id !== caller.userId || row.device_id !== caller.deviceId) return rpcError.unauthenticated('session has ended: log in again');
    return {
      user: { id: row.user_id, username: row.username, createdAt: row.created_at, displayName: row.display_name, avatarMediaId: row.avatar_media_id },
      device: { deviceId: row.device_id, name: row.device_name, registrationId: row.registration_id, createdAt: row.device_created_at },
    };
  });
}
