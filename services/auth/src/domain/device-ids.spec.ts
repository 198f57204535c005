import { MAX_DEVICE_ID } from '@parley/platform';
import { nextDeviceId } from './device-ids';

describe('nextDeviceId', () => {
  it('takes the id after the highest in use, even when lower ids are free', () => {
    expect(nextDeviceId([1])).toBe(2);
    expect(nextDeviceId([1, 2, 3])).toBe(4);
    expect(nextDeviceId([1, 5])).toBe(6);
  });

  it('falls back to the lowest free id from 2 once MAX_DEVICE_ID is taken', () => {
    expect(nextDeviceId([1, MAX_DEVICE_ID])).toBe(2);
    expect(nextDeviceId([1, 2, 3, 5, MAX_DEVICE_ID])).toBe(4);
  });

  it('finds nothing when 2 to MAX_DEVICE_ID are all taken', () => {
    const all = Array.from({ length: MAX_DEVICE_ID }, (_, i) => i + 1);
    expect(nextDeviceId(all)).toBeUndefined();
    expect(nextDeviceId(all.filter((id) => id !== 64))).toBe(64);
  });
});
