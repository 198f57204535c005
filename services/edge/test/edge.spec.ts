import { Code, ConnectError } from '@connectrpc/connect';
import { AuthService } from '@parley/proto';
import { edgeClient, startTestStack, type TestStack } from '@parley/testing';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth', 'edge'], env: { edge: { CORS_ALLOWED_ORIGINS: '*' } } });
});

afterAll(() => stack?.cleanup());

it('allows any origin when CORS_ALLOWED_ORIGINS is *, and exposes the headers a browser client reads', async () => {
  const res = await fetch(`${stack.edgeUrl}/parley.auth.v1.AuthService/GetMe`, {
    method: 'POST',
    headers: { origin: 'https://app.example', 'content-type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(401);
  expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
  expect(res.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/);
});

it('answers GET on a path it does not serve with a Connect error, not an HTML page', async () => {
  const res = await fetch(`${stack.edgeUrl}/`);
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ code: 'unimplemented' });
});

it('turns an unreachable backend into UNAVAILABLE without revealing where it lives', async () => {
  const auth = edgeClient(AuthService, stack.edgeUrl);
  await stack.services.auth.stop();
  let error: ConnectError | undefined;
  try {
    await auth.login({ username: 'nobody', password: 'whatever password', registrationId: 1 });
  } catch (err) {
    error = ConnectError.from(err);
  }
  expect(error?.code).toBe(Code.Unavailable);
  expect(error?.rawMessage).toBe('service temporarily unavailable; retry shortly');
  expect(error?.rawMessage).not.toContain(String(stack.services.auth.rpcPort));
});
