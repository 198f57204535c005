import type { EntityManager } from '@mikro-orm/core';
import { DeviceKeysSchema, EcPreKeySchema, KyberPreKeySchema } from './device-keys.entity.js';

/** Deletes the keys of one device, or of every device of the user. Log leaves stay. */
export async function deleteDeviceKeys(em: EntityManager, where: { userId: string; deviceId?: number }): Promise<void> {
  // device_keys first: claims lock it before the one-time keys, so the same order can't deadlock.
  await em.nativeDelete(DeviceKeysSchema, where);
  await em.nativeDelete(EcPreKeySchema, where);
  await em.nativeDelete(KyberPreKeySchema, where);
}
