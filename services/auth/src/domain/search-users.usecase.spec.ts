import { Code, ConnectError } from '@connectrpc/connect';
import { parseSearchQuery } from './search-users.usecase.js';

function rejection(fn: () => unknown): ConnectError {
  try {
    fn();
  } catch (err) {
    return err as ConnectError;
  }
  throw new Error('expected a rejection');
}

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
    const err = rejection(() => parseSearchQuery(raw));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });
});
