import { nextDeviceId } from './device-ids';

describe('nextDeviceId', () => {
  it('takes the id after the highest in use, even when lower ids are free', () => {
    expect(nextDeviceId([1])).toBe(2);
    expect(nextDeviceId([1, 2, 3])).toBe(4);
    expect(nextDeviceId([1, 5])).toBe(6);
  });

  it('falls back to the lowest free id from 2 once 127 is taken', () => {
    expect(nextDeviceId([1, 127])).toBe(2);
    expect(nextDeviceId([1, 2, 3, 5, 127])).toBe(4);
  });

  it('finds nothing when 2 to 127 are all taken', () => {
    const all = Array.from({ length: 127 }, (_, i) => i + 1);
    expect(nextDeviceId(all)).toBeUndefined();
    expect(nextDeviceId(all.filter((id) => id !== 64))).toBe(64);
  });
});
