import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { MAX_DEVICE_ID, MAX_REGISTRATION_ID, isDeviceId, requireDeviceId, requireRegistrationId } from './signal-ids.js';

describe('device ids', () => {
  it('runs from 1 to MAX_DEVICE_ID, whole numbers only', () => {
    expect([1, MAX_DEVICE_ID].map(isDeviceId)).toEqual([true, true]);
    expect([0, -1, MAX_DEVICE_ID + 1, 1.5, NaN].map(isDeviceId)).toEqual([false, false, false, false, false]);
  });

  it.each([
    [0, 'recipient_device_id is required'],
    [MAX_DEVICE_ID + 1, `recipient_device_id must be between 1 and ${MAX_DEVICE_ID}`],
    [2.5, `recipient_device_id must be between 1 and ${MAX_DEVICE_ID}`],
  ])('refuses %p with INVALID_ARGUMENT naming the field', (raw, message) => {
    const err = connectErrorThrownBy(() => requireDeviceId(raw, 'recipient_device_id'));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });

  it('passes the bounds through', () => {
    expect([requireDeviceId(1, 'd'), requireDeviceId(MAX_DEVICE_ID, 'd')]).toEqual([1, MAX_DEVICE_ID]);
  });
});

describe('registration ids', () => {
  it.each([
    [0, 'registration_id is required'],
    [MAX_REGISTRATION_ID + 1, `registration_id must be between 1 and ${MAX_REGISTRATION_ID}`],
  ])('refuses %p with INVALID_ARGUMENT naming the field', (raw, message) => {
    const err = connectErrorThrownBy(() => requireRegistrationId(raw, 'registration_id'));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });

  it('passes the bounds through', () => {
    expect([requireRegistrationId(1, 'r'), requireRegistrationId(MAX_REGISTRATION_ID, 'r')]).toEqual([1, MAX_REGISTRATION_ID]);
  });
});
