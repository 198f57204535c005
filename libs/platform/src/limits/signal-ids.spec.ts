import { MAX_DEVICE_ID, isDeviceId } from './signal-ids.js';

describe('device ids', () => {
  it('runs from 1 to MAX_DEVICE_ID, whole numbers only', () => {
    expect([1, MAX_DEVICE_ID].map(isDeviceId)).toEqual([true, true]);
    expect([0, -1, MAX_DEVICE_ID + 1, 1.5, NaN].map(isDeviceId)).toEqual([false, false, false, false, false]);
  });
});
