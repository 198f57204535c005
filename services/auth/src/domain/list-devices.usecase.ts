import type { Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { DeviceSchema, type Device } from './device.entity.js';
import { requireLiveSession } from './live-session.js';

/** The caller's account's devices, primary first. */
export async function listDevices(deps: AuthDeps, caller: Caller): Promise<Device[]> {
  const em = deps.orm.em.fork();
  await requireLiveSession(em, caller);
  return em.find(DeviceSchema, { user: caller.userId }, { orderBy: { deviceId: 'asc' } });
}
