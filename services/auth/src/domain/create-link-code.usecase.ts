import { randomUUID } from 'node:crypto';
import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { requireRoomForDevice } from './add-device.js';
import { LinkCodeSchema } from './link-code.entity.js';
import { LINK_CODE_BYTES, newSecret } from './link-codes.js';
import { requireLiveSession } from './live-session.js';

/**
 * Every code is dead once expired, used or not. The account's dead codes are dropped when it makes
 * a new one, but only after a day, so a late attempt still hears "expired" or "already used".
 */
const DEAD_CODE_KEPT_MS = 86_400_000;

/** A single-use code, valid for LINK_CODE_TTL_SECONDS, with which a new device joins the caller's account. */
export async function createLinkCode(deps: AuthDeps, caller: Caller): Promise<{ code: string; expiresAt: Date }> {
  const { secret, hash } = newSecret(LINK_CODE_BYTES);
  const now = new Date();
  const expiresAt = new Date(now.getTime() + deps.settings.linkCodeTtlSeconds * 1000);
  await deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    await requireRoomForDevice(em, deps, caller.userId);
    await em.nativeDelete(LinkCodeSchema, { user: caller.userId, expiresAt: { $lt: new Date(now.getTime() - DEAD_CODE_KEPT_MS) } });
    em.create(LinkCodeSchema, { id: randomUUID(), user: caller.userId, createdByDeviceId: caller.deviceId, codeHash: hash, createdAt: now, expiresAt });
  });
  return { code: secret, expiresAt };
}
