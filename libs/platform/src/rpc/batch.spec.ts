import { Code, ConnectError } from '@connectrpc/connect';
import { DeviceMismatchSchema } from '@parley/proto';
import { pino } from 'pino';
import { connectErrorOf } from '@parley/testing';
import { rpcError } from './errors.js';
import { batchedMethod, serveBatch, type BatchItem } from './batch.js';
import type { Caller, TokenVerifier } from '../auth/access-token.js';

const verifier: TokenVerifier = {
  async verify(token) {
    if (!token.startsWith('good-')) throw rpcError.unauthenticated('invalid access token: log in again');
    return { userId: token.slice(5), sessionId: 's', deviceId: 1, expiresAt: new Date(Date.now() + 60_000) };
  },
};

const logged: unknown[] = [];
const log = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });

/** A backend method behind a batch: answers with the caller's user id, or fails as the request says. */
async function handle(caller: Caller, request: { fail?: 'mismatch' | 'bug' }): Promise<string> {
  if (request.fail === 'mismatch') {
    throw new ConnectError('envelopes do not match', Code.FailedPrecondition, undefined, [{ desc: DeviceMismatchSchema, value: { missingDevices: [{ userId: 'u9', deviceId: 2 }] } }]);
  }
  if (request.fail === 'bug') throw new TypeError('cannot read x of undefined');
  return `hello ${caller.userId}`;
}

describe('batched calls', () => {
  const batches: number[] = [];
  const call = batchedMethod<{ fail?: 'mismatch' | 'bug' }, string>(
    async (items: BatchItem<{ fail?: 'mismatch' | 'bug' }>[]) => {
      batches.push(items.length);
      return serveBatch(items, verifier, log, handle);
    },
    { concurrency: 1, maxBatch: 10 },
  );
  const as = (token: string) => ({ authorization: `Bearer ${token}`, requestId: 'r1' });

  it('answers each item as its own call: a value, its own error with details, or UNAUTHENTICATED for its token alone', async () => {
    const [ok, badToken, noToken, mismatch, other] = await Promise.allSettled([
      call(as('good-alice'), {}),
      call(as('forged'), {}),
      call({ authorization: '', requestId: 'r2' }, {}),
      call(as('good-bob'), { fail: 'mismatch' }),
      call(as('good-carol'), {}),
    ]);
    // Submitted together, they travel together.
    expect(batches).toEqual([5]);
    expect(ok).toEqual({ status: 'fulfilled', value: 'hello alice' });
    expect(other).toEqual({ status: 'fulfilled', value: 'hello carol' });
    const errorOf = (r: PromiseSettledResult<string>) => (r as PromiseRejectedResult).reason as ConnectError;
    expect([errorOf(badToken).code, errorOf(badToken).rawMessage]).toEqual([Code.Unauthenticated, 'invalid access token: log in again']);
    expect(errorOf(noToken).rawMessage).toMatch(/^missing access token/);
    expect(errorOf(mismatch).code).toBe(Code.FailedPrecondition);
    expect(errorOf(mismatch).findDetails(DeviceMismatchSchema)[0]?.missingDevices).toMatchObject([{ userId: 'u9', deviceId: 2 }]);
  });

  it('hides a bug from the caller and logs it', async () => {
    const err = await connectErrorOf(call(as('good-dave'), { fail: 'bug' }));
    expect([err.code, err.rawMessage]).toEqual([Code.Internal, 'internal error; quote the x-request-id header when reporting it']);
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'internal error', err: expect.objectContaining({ message: 'cannot read x of undefined' }) }));
  });
});
