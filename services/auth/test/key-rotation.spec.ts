import { Code } from '@connectrpc/connect';
import { newSigningKey } from '@parley/platform';
import { connectErrorOf, startTestStack, withToken, type TestStack } from '@parley/testing';
import { authClients } from './support/auth-clients.js';

jest.setTimeout(120_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ services: ['auth'], env: { auth: { BCRYPT_COST: '4' } } });
});

afterAll(() => stack?.cleanup());

/** Restarts auth as an operator would after editing its variables. */
async function restartAuth(vars: Record<string, string>): Promise<void> {
  const auth = stack.services.auth;
  await auth.stop();
  Object.assign(auth.env, vars);
  await auth.start();
}

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;

describe('signing key rotation', () => {
  it('keeps tokens of a previous key valid while it is listed, signs with the new key, and refuses them once it is dropped', async () => {
    const oldKey = stack.services.auth.env.AUTH_SIGNING_KEY!;
    const oldKid = JSON.parse(oldKey).kid as string;
    const before = await authClients(stack).accounts.register();
    const name = before.username;
    expect(kidOf(before.tokens.accessToken)).toBe(oldKid);

    const newKey = newSigningKey();
    const newKid = JSON.parse(newKey).kid as string;
    // The old key goes in whole, private part included: only its public part may be published.
    await restartAuth({ AUTH_SIGNING_KEY: newKey, AUTH_PREVIOUS_SIGNING_KEYS: JSON.stringify([JSON.parse(oldKey)]) });
    const { auth, internal, accounts } = authClients(stack);
    const { keys } = await internal.getJwks({});
    expect(keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    expect(keys[1]).toEqual(expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', x: JSON.parse(oldKey).x }));
    expect(JSON.stringify(keys)).not.toContain(JSON.parse(oldKey).d);
    await expect(auth.getMe({}, withToken(before.tokens.accessToken))).resolves.toMatchObject({ user: { username: name } });
    const after = await accounts.logIn(name);
    expect(kidOf(after.tokens.accessToken)).toBe(newKid);

    await restartAuth({ AUTH_PREVIOUS_SIGNING_KEYS: '' });
    const dropped = authClients(stack);
    expect((await dropped.internal.getJwks({})).keys.map((k) => k.kid)).toEqual([newKid]);
    const err = await connectErrorOf(dropped.auth.getMe({}, withToken(before.tokens.accessToken)));
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, 'invalid access token: log in again']);
    await expect(dropped.auth.getMe({}, withToken(after.tokens.accessToken))).resolves.toMatchObject({ user: { username: name } });
  });

  it('refuses to start with a malformed AUTH_PREVIOUS_SIGNING_KEYS, naming it', async () => {
    await expect(restartAuth({ AUTH_PREVIOUS_SIGNING_KEYS: '[{"kty":"OKP"}]' })).rejects.toThrow(/AUTH_PREVIOUS_SIGNING_KEYS\[0\] must be an Ed25519 JWK/);
    await restartAuth({ AUTH_PREVIOUS_SIGNING_KEYS: '' });
  });
});
