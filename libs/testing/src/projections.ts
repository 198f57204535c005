import type { DeviceAddress } from './accounts.js';
import { eventually, type TestStack } from './test-stack.js';

type Queryable = Pick<TestStack, 'query'>;

/**
 * Waits until `service` has learnt each of `devices` from auth's events: each is active in its
 * device_projection. Fails naming the devices still missing.
 */
export async function untilDevicesKnown(
  stack: Queryable,
  service: 'keys' | 'messaging',
  devices: readonly Pick<DeviceAddress, 'userId' | 'deviceId'>[],
  timeoutMs?: number,
): Promise<void> {
  const key = (userId: string, deviceId: number) => `${userId}/${deviceId}`;
  const userIds = [...new Set(devices.map((d) => d.userId))];
  await eventually(
    async () => {
      const rows = await stack.query<{ user_id: string; device_id: number }>(
        service,
        'select user_id, device_id from device_projection where user_id = any($1::uuid[]) and active',
        [userIds],
      );
      const known = new Set(rows.map((r) => key(r.user_id, r.device_id)));
      return devices.map((d) => key(d.userId, d.deviceId)).filter((d) => !known.has(d));
    },
    (missing) => missing.length === 0,
    timeoutMs,
  );
}

/** Waits until messaging has learnt each of these accounts from auth's events: each is in its user_projection. */
export async function untilUsersKnown(stack: Queryable, service: 'messaging', userIds: readonly string[], timeoutMs?: number): Promise<void> {
  await eventually(
    async () => {
      const rows = await stack.query<{ user_id: string }>(service, 'select user_id from user_projection where user_id = any($1::uuid[])', [[...userIds]]);
      const known = new Set(rows.map((r) => r.user_id));
      return userIds.filter((id) => !known.has(id));
    },
    (missing) => missing.length === 0,
    timeoutMs,
  );
}
