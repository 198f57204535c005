import { Code, ConnectError } from '@connectrpc/connect';
import { invalidInput } from './invalid-input.js';

/** An error as node-postgres raises it: the SQLSTATE in `code`, the statement possibly in the message. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('invalidInput', () => {
  it.each([
    ['parse binary: premature EOF'],
    ['received compressed envelope, but do not know how to decompress'],
    ['protocol error: incomplete envelope'],
    ['decompression failed'],
  ])('makes connect\'s INTERNAL "%s" INVALID_ARGUMENT', (message) => {
    const mapped = invalidInput(new ConnectError(message, Code.Internal));
    expect([mapped?.code, mapped?.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });

  it.each([
    ['22003', 'a number in the request is out of range (SQLSTATE 22003)'],
    ['22P02', 'a value in the request is malformed (SQLSTATE 22P02)'],
    ['22021', 'text in the request holds a NUL or a byte that is not UTF-8 (SQLSTATE 22021)'],
    ['22012', 'a value in the request is not valid (SQLSTATE 22012)'],
  ])('makes PostgreSQL data exception %s INVALID_ARGUMENT without the statement', (code, message) => {
    const mapped = invalidInput(pgError(code, 'select "secret_column" from t where id = $1 - value out of range'));
    expect([mapped?.code, mapped?.rawMessage]).toEqual([Code.InvalidArgument, message]);
  });

  it('finds a data exception that another error wraps', () => {
    expect(invalidInput(new Error('query failed', { cause: pgError('22003', 'out of range') }))?.code).toBe(Code.InvalidArgument);
  });

  it.each([
    ['another INTERNAL error', new ConnectError('serialize binary: bad', Code.Internal)],
    ['an error already meant for the caller', new ConnectError('parse binary: x', Code.NotFound)],
    ['a unique violation (class 23)', pgError('23505', 'duplicate key')],
    ['a bug', new TypeError('undefined is not a function')],
    ['a thrown string', 'oops'],
  ])('leaves %s alone', (_, err) => {
    expect(invalidInput(err)).toBeUndefined();
  });
});
