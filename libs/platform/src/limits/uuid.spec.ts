import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { canonicalUuid, requireUuid } from './uuid.js';

describe('requireUuid', () => {
  it('gives the id trimmed and lowercased, as ids are stored', () => {
    const id = randomUUID();
    expect(requireUuid(` ${id.toUpperCase()}\n`, 'user_id')).toBe(id);
  });

  it.each([
    ['', 'user_id is required'],
    ['  ', 'user_id is required'],
    ['42', 'user_id must be a UUID'],
    [`${randomUUID()}0`, 'user_id must be a UUID'],
    [randomUUID().replace(/-/g, ''), 'user_id must be a UUID'],
    [randomUUID().replace(/^./, 'g'), 'user_id must be a UUID'],
  ])('refuses %j with INVALID_ARGUMENT naming the field', (raw, message) => {
    const err = connectErrorThrownBy(() => requireUuid(raw, 'user_id'));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });

  it('says where such ids come from when the caller names it', () => {
    const err = connectErrorThrownBy(() => requireUuid('nope', 'session_id', 'a session id from ListSessions'));
    expect(err.rawMessage).toBe('session_id must be a session id from ListSessions');
  });
});

describe('canonicalUuid', () => {
  it('lowercases a UUID the contract checked, as ids are stored', () => {
    const id = randomUUID();
    expect(canonicalUuid(id.toUpperCase())).toBe(id);
  });
});
