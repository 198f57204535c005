import { MAX_DEVICE_ID } from '@parley/platform';
import { PRIMARY_DEVICE_ID } from './device.entity.js';

/**
 * The id for an account's next device: one past the highest in use, so an id freed below it is not
 * handed to a new device while contacts may still hold Signal sessions with the old one. Only once
 * MAX_DEVICE_ID is taken does it fall back to the lowest free id from 2. Undefined when all are taken.
 */
export function nextDeviceId(usedIds: readonly number[]): number | undefined {
  const highest = Math.max(PRIMARY_DEVICE_ID, ...usedIds);
  if (highest < MAX_DEVICE_ID) return highest + 1;
  const used = new Set(usedIds);
  for (let id = PRIMARY_DEVICE_ID + 1; id <= MAX_DEVICE_ID; id++) if (!used.has(id)) return id;
  return undefined;
}
