import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { parseAvatarMediaId, parseDisplayName } from './profile-input.js';

describe('parseDisplayName', () => {
  it('trims and composes to NFC; empty clears', () => {
    expect(parseDisplayName('  Zoe\u0301 ')).toBe('Zoé');
    expect(parseDisplayName('')).toBe('');
    expect(parseDisplayName('   ')).toBe('');
  });

  it('counts characters, not UTF-16 units', () => {
    expect(parseDisplayName('😀'.repeat(64))).toBe('😀'.repeat(64));
  });

  it.each([
    ['x'.repeat(65), 'display_name must be at most 64 characters'],
    ['Ann\u0000ie', 'display_name must not contain control characters or line breaks'],
    ['Ann\nie', 'display_name must not contain control characters or line breaks'],
    ['Ann\u2028ie', 'display_name must not contain control characters or line breaks'],
  ])('rejects %j', (input, message) => {
    const err = connectErrorThrownBy(() => parseDisplayName(input));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });
});

describe('parseAvatarMediaId', () => {
  it('accepts ids of [A-Za-z0-9_-] up to 128 characters; empty clears', () => {
    expect(parseAvatarMediaId('abc_DEF-123')).toBe('abc_DEF-123');
    expect(parseAvatarMediaId('a'.repeat(128))).toBe('a'.repeat(128));
    expect(parseAvatarMediaId('')).toBe('');
  });

  it.each([
    ['a'.repeat(129), 'avatar_media_id must be at most 128 characters'],
    ['../etc/passwd', 'avatar_media_id may contain only letters A-Z and a-z, digits, _ and -'],
    ['id with space', 'avatar_media_id may contain only letters A-Z and a-z, digits, _ and -'],
  ])('rejects %j', (input, message) => {
    const err = connectErrorThrownBy(() => parseAvatarMediaId(input));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });
});
