import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { parseOtherUserId } from './contacts.js';

describe('parseOtherUserId', () => {
  const caller = randomUUID();

  it('accepts another user’s id (a UUID, as the contract checks) in any case, as stored (lowercase)', () => {
    const other = randomUUID();
    expect(parseOtherUserId(other.toUpperCase(), caller, 'self')).toBe(other);
  });

  it("refuses the caller's own id, however it is written, with the use case's message", () => {
    const err = connectErrorThrownBy(() => parseOtherUserId(caller.toUpperCase(), caller, "you can't block yourself"));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, "you can't block yourself"]);
  });
});
