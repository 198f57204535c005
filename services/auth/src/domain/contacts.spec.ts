import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { parseOtherUserId } from './contacts.js';

function rejection(fn: () => unknown): ConnectError {
  try {
    fn();
  } catch (err) {
    return err as ConnectError;
  }
  throw new Error('expected a rejection');
}

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
    const err = rejection(() => parseOtherUserId(raw, caller, 'self'));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });

  it("refuses the caller's own id, however it is written, with the use case's message", () => {
    const err = rejection(() => parseOtherUserId(caller.toUpperCase(), caller, "you can't block yourself"));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, "you can't block yourself"]);
  });
});
