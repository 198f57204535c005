import http from 'node:http';
import { once } from 'node:events';
import { connect as connectTcp, type Socket } from 'node:net';
import { eventually, startTestStack, type TestStack } from '@parley/testing';

let stack: TestStack;
const sockets: Socket[] = [];

/** A raw connection to the edge at `url` that has sent `bytes`; it collects what the edge answers. */
async function rawConnection(url: string, bytes = ''): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const { hostname, port } = new URL(url);
  const socket = connectTcp({ host: hostname, port: Number(port) });
  sockets.push(socket);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  // A refused connection may be reset: closed either way.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await Promise.race([once(socket, 'connect'), closed]);
  if (bytes) socket.write(bytes);
  return { socket, received: () => received, closed };
}

const requestHead = (url: string, extra: string[] = []) =>
  [`POST /parley.auth.v1.AuthService/Register HTTP/1.1`, `Host: ${new URL(url).host}`, 'Content-Type: application/json', ...extra, '', ''].join('\r\n');

describe('the edge HTTP server', () => {
  beforeAll(async () => {
    stack = await startTestStack({
      services: ['auth', 'edge'],
      env: { edge: { EDGE_HEADERS_TIMEOUT_SECONDS: '1', EDGE_REQUEST_TIMEOUT_SECONDS: '2' } },
    });
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  afterAll(async () => {
    await stack?.cleanup();
  });

  it('closes a connection whose headers never finish (EDGE_HEADERS_TIMEOUT_SECONDS)', async () => {
    const slow = await rawConnection(stack.edgeUrl, `POST /parley.auth.v1.AuthService/Register HTTP/1.1\r\nHost: edge\r\n`);
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose body never finishes (EDGE_REQUEST_TIMEOUT_SECONDS)', async () => {
    const slow = await rawConnection(stack.edgeUrl, requestHead(stack.edgeUrl, ['Content-Length: 100']) + '{"username":');
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers a body over EDGE_READ_MAX_BYTES with 413, read and thrown away so the client gets the answer', async () => {
    const res = await fetch(`${stack.edgeUrl}/parley.auth.v1.AuthService/Register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'big', password: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      code: 'resource_exhausted',
      message: "request body of 2097184 bytes is larger than the edge's limit of 1048576 bytes: send less",
    });
  });

  it('answers a body declared far over the limit with 413 at once, and closes the connection', async () => {
    const huge = await rawConnection(stack.edgeUrl, requestHead(stack.edgeUrl, [`Content-Length: ${100 * 1024 * 1024}`]) + '{"username":');
    await huge.closed;
    expect(huge.received()).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers a chunked body that runs over EDGE_READ_MAX_BYTES with 413 too', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${stack.edgeUrl}/parley.auth.v1.AuthService/Register`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      // No Content-Length: Node sends the body chunked, so only counting it can find it too big.
      req.write(`{"username":"big","password":"`);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(128 * 1024));
      req.end('"}');
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ code: 'resource_exhausted', message: expect.stringMatching(/is larger than the limit of 1048576 bytes: send less$/) });
  });

  it('refuses connections past EDGE_MAX_CONNECTIONS, and takes new ones as others close', async () => {
    const edge = await stack.startReplica('edge', { EDGE_MAX_CONNECTIONS: '2', EDGE_HEADERS_TIMEOUT_SECONDS: '600', EDGE_REQUEST_TIMEOUT_SECONDS: '600' });
    // Each answered, so the edge holds it (kept alive for the next request).
    const unknownPath = `POST /nope HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n`;
    const held = [];
    for (let i = 0; i < 2; i++) {
      const conn = await rawConnection(edge.url, unknownPath);
      await new Promise<void>((resolve) => conn.socket.once('data', () => resolve()));
      held.push(conn);
    }
    const refused = await rawConnection(edge.url, unknownPath);
    await refused.closed;
    expect(refused.received()).toBe('');

    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The edge counts the closed connection out on its own time.
    const answered = await eventually(
      async () => {
        const conn = await rawConnection(edge.url, unknownPath);
        await Promise.race([conn.closed, new Promise((resolve) => conn.socket.once('data', resolve))]);
        return conn.received();
      },
      (received) => received !== '',
    );
    expect(answered).toMatch(/^HTTP\/1\.1 404 /);
  });
});
