import type { IncomingMessage, ServerResponse } from 'node:http';
import { DeliveryService, MessageService } from '@parley/proto';
import { contentTypePolicy, streamPaths } from './http-policy.js';

/** What the policy did with a POST of `contentType` to `path`: passed it on, or answered it. */
function outcome(path: string, contentType: string) {
  let answered: { status: number; body: { code?: string; message?: string } } | undefined;
  const res = {
    writeHead: (status: number) => ({ end: (body: string) => (answered = { status, body: JSON.parse(body) }) }),
  } as unknown as ServerResponse;
  const req = { method: 'POST', url: path, headers: { 'content-type': contentType } } as unknown as IncomingMessage;
  const handled = contentTypePolicy(streamPaths([DeliveryService, MessageService]))(req, res);
  return handled ? answered : 'passed on';
}

const SUBSCRIBE = '/parley.messaging.v1.DeliveryService/Subscribe';
const SEND = '/parley.messaging.v1.MessageService/SendMessage';

describe('contentTypePolicy', () => {
  it.each([
    [SEND, 'application/json'],
    [SEND, 'application/proto'],
    [SEND, 'application/grpc-web+proto'],
    [SUBSCRIBE, 'application/connect+json'],
    [SUBSCRIBE, 'application/connect+proto'],
    [SUBSCRIBE, 'application/grpc-web+proto'],
  ])('passes %s as %s on', (path, type) => {
    expect(outcome(path, type)).toBe('passed on');
  });

  it('answers a server stream called in a unary format 415, naming the streaming formats', () => {
    expect(outcome(SUBSCRIBE, 'application/json')).toEqual({
      status: 415,
      body: { code: 'invalid_argument', message: expect.stringContaining('application/connect+json') },
    });
  });

  it('answers a format the edge does not speak 415, naming the ones it does', () => {
    expect(outcome(SEND, 'text/plain')).toEqual({ status: 415, body: { code: 'invalid_argument', message: expect.stringContaining('application/json') } });
  });
});
