import { randomUUID } from 'node:crypto';
import type { Caller } from '@parley/platform';
import { requireRoomForDevice } from './add-device.js';
import type { DeviceDeps } from './device-deps.js';
import { LinkCodeSchema } from './link-code.entity.js';
import { LINK_CODE_BYTES, newSecret } from './link-codes.js';
import { requireLiveSession } from './live-session.js';

/** A single-use code, valid for LINK_CODE_TTL_SECONDS, with which a new device joins the caller's account. */
export async function createLinkCode(deps: DeviceDeps, caller: Caller): Promise<{ code: string; expiresAt: Date }> {
  const { secret, hash } = newSecret(LINK_CODE_BYTES);
  const now = new Date();
  const expiresAt = new Date(now.getTime() + deps.linkCodeTtlSeconds * 1000);
  await deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    await requireRoomForDevice(em, deps, caller.userId);
    em.create(LinkCodeSchema, { id: randomUUID(), user: caller.userId, createdByDeviceId: caller.deviceId, codeHash: hash, createdAt: now, expiresAt });
  });
  return { code: secret, expiresAt };
}
