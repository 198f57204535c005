import { create } from '@bufbuild/protobuf';
import { createValidator } from '@bufbuild/protovalidate';
import { UpdateProfileRequestSchema } from '@parley/proto';
import { parseDisplayName } from './profile-input.js';

describe('parseDisplayName', () => {
  it('trims and composes to NFC; empty clears', () => {
    expect(parseDisplayName('  Zoe\u0301 ')).toBe('Zoé');
    expect(parseDisplayName('')).toBe('');
    expect(parseDisplayName('   ')).toBe('');
  });
});

describe("UpdateProfileRequest's contract", () => {
  const validator = createValidator();
  const violations = (fields: { displayName?: string; avatarMediaId?: string }) => {
    const result = validator.validate(UpdateProfileRequestSchema, create(UpdateProfileRequestSchema, fields));
    return result.kind === 'invalid' ? result.violations.map(String) : result.kind;
  };

  it('takes names up to 64 characters (not UTF-16 units) and media ids of [A-Za-z0-9_-] up to 128', () => {
    expect(violations({ displayName: '😀'.repeat(64), avatarMediaId: 'a'.repeat(128) })).toBe('valid');
    expect(violations({ displayName: '', avatarMediaId: 'abc_DEF-123' })).toBe('valid');
  });

  it.each([
    [{ displayName: 'x'.repeat(65) }, 'display_name: must be at most 64 characters [string.max_len]'],
    [{ displayName: 'Ann\u0000ie' }, expect.stringMatching(/^display_name: .* \[string\.pattern\]$/)],
    [{ displayName: 'Ann\nie' }, expect.stringMatching(/^display_name: .* \[string\.pattern\]$/)],
    [{ displayName: 'Ann\u2028ie' }, expect.stringMatching(/^display_name: .* \[string\.pattern\]$/)],
    [{ avatarMediaId: 'a'.repeat(129) }, 'avatar_media_id: must be at most 128 characters [string.max_len]'],
    [{ avatarMediaId: '../etc/passwd' }, expect.stringMatching(/^avatar_media_id: .* \[string\.pattern\]$/)],
  ])('refuses %j', (fields, violation) => {
    expect(violations(fields)).toEqual([violation]);
  });
});
