import { events, rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { DeviceSchema, PRIMARY_DEVICE_ID } from './device.entity.js';
import { LinkCodeSchema } from './link-code.entity.js';
import { requireLiveSession } from './live-session.js';
import { announceRevocations, revokeSessions } from './sessions.js';

/**
 * Unlinks a device of the caller's account, possibly the caller's own. Its sessions are revoked
 * first so auth.session.revoked names them, then the row goes, taking its sessions and refresh tokens
 * by cascade, with auth.device.revoked in the same transaction. Returns once the edge has been told.
 */
export async function revokeDevice(deps: AuthDeps, caller: Caller, input: { deviceId: number }): Promise<void> {
  const deviceId = input.deviceId;
  const now = new Date();
  await deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    if (deviceId === PRIMARY_DEVICE_ID) {
      throw rpcError.failedPrecondition('the primary device (1) cannot be revoked: delete the account instead');
    }
    const device = await em.findOne(DeviceSchema, { user: caller.userId, deviceId });
    if (!device) throw rpcError.notFound(`this account has no device ${deviceId}: ListDevices shows its devices`);
    await revokeSessions(em, deps, caller.userId, { device: device.id }, now);
    // Codes it made but nobody used die with it: an unlinked device must not leave a way back in.
    await em.nativeDelete(LinkCodeSchema, { user: caller.userId, createdByDeviceId: deviceId, redeemedAt: null });
    await em.nativeDelete(DeviceSchema, { id: device.id });
    deps.outbox.add(em, events.deviceRevoked, { userId: caller.userId, deviceId });
  });
  await announceRevocations(deps);
}
