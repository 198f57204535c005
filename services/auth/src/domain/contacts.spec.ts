import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { parseOtherUserId } from './contacts.js';

describe('parseOtherUserId', () => {
  const caller = randomUUID();

  it('accepts another user’s id in any case, as stored (lowercase)', () => {
    const other = randomUUID();
    expect(parseOtherUserId(` ${other.toUpperCase()} `, caller, 'self')).toBe(other);
  });

  it.each([
    ['', 'user_id is required'],
    ['42', 'user_id must be a UUID'],
    [`${randomUUID()}x`, 'user_id must be a UUID'],
  ])('refuses %j with INVALID_ARGUMENT', (raw, message) => {
    const err = connectErrorThrownBy(() => parseOtherUserId(raw, caller, 'self'));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });

  it("refuses the caller's own id, however it is written, with the use case's message", () => {
    const err = connectErrorThrownBy(() => parseOtherUserId(caller.toUpperCase(), caller, "you can't block yourself"));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, "you can't block yourself"]);
  });
});
