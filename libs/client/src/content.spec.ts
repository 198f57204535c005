import { backoffDelay } from './clock';
import { decodeContent, encodeContent, type Content } from './content';
import { ParleyError, isTransient } from './errors';
import { Code, ConnectError } from '@connectrpc/connect';

describe('message content', () => {
  it('round-trips every kind', () => {
    const contents: Content[] = [
      { kind: 'text', text: 'hi' },
      { kind: 'edit', targetMessageId: 'm', text: 'hi!' },
      { kind: 'reaction', targetMessageId: 'm', emoji: '👍' },
      { kind: 'receipt', receipt: 'read', messageIds: ['m'] },
      { kind: 'typing', typing: true },
    ];
    for (const content of contents) expect(decodeContent(encodeContent(content))).toEqual(content);
  });

  it('refuses what this SDK did not write', () => {
    expect(() => decodeContent('{"v":2,"kind":"text"}')).toThrow('version 2');
    expect(() => decodeContent('{"v":1,"kind":"poll"}')).toThrow('unknown message kind poll');
    expect(() => decodeContent('7')).toThrow('not an object');
  });
});

describe('backoff and retries', () => {
  it('grows exponentially up to its cap, jittered below it', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 0.999999))).toEqual([249, 499, 999, 1999]);
    expect(backoffDelay(30, () => 0.999999)).toBe(14_999);
    expect(backoffDelay(5, () => 0)).toBe(0);
  });

  it('retries an unreachable server and a reset socket, never a refusal', () => {
    const reset = new ConnectError('socket hang up', Code.Internal, undefined, undefined, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(isTransient(reset)).toBe(true);
    expect(isTransient(new ConnectError('down', Code.Unavailable))).toBe(true);
    expect(isTransient(new ConnectError('bug', Code.Internal))).toBe(false);
    expect(isTransient(new ConnectError('no', Code.PermissionDenied))).toBe(false);
    expect(ParleyError.from(new ConnectError('who?', Code.NotFound))).toMatchObject({ code: Code.NotFound, codeName: 'not_found', message: 'who?' });
  });
});
