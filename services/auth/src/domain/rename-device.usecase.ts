import { rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { DeviceSchema, type Device } from './device.entity.js';
import { parseDeviceName } from './device-input.js';
import { requireLiveSession } from './live-session.js';

export interface RenameDeviceInput {
  deviceId: number;
  name: string;
}

/** Renames any device of the caller's account. */
export async function renameDevice(deps: AuthDeps, caller: Caller, input: RenameDeviceInput): Promise<Device> {
  const deviceId = input.deviceId;
  const name = parseDeviceName(input.name);
  return deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    const device = await em.findOne(DeviceSchema, { user: caller.userId, deviceId });
    if (!device) throw rpcError.notFound(`this account has no device ${deviceId}: ListDevices shows its devices`);
    device.name = name;
    return device;
  });
}
