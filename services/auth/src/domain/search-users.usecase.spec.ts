import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { parseSearchQuery } from './search-users.usecase.js';

describe('parseSearchQuery', () => {
  it('normalises like a username: width, case and surrounding space', () => {
    expect(parseSearchQuery('  ＡＬＩ_ce ')).toBe('ali_ce');
  });

  it.each([
    ['   ', 'query is required'],
    ['ab', 'query must be at least 3 characters'],
    ['a'.repeat(33), 'query must be at most 32 characters'],
    ['ali%', "query may contain only letters a-z, digits, '_' and '.'"],
    ['al\\i', "query may contain only letters a-z, digits, '_' and '.'"],
  ])('refuses %j with INVALID_ARGUMENT', (raw, message) => {
    const err = connectErrorThrownBy(() => parseSearchQuery(raw));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });
});
