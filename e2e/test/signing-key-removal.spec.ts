import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { importJWK, SignJWT, type JWK } from 'jose';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, newSigningKey } from '@parley/platform';
import { ConversationService, DeliveryService, KeyService } from '@parley/proto';
import { edgeClient, eventually, metricValue, startTestStack, type TestStack } from '@parley/testing';
import { signUp, type EdgeDevice } from './support/accounts.js';

let stack: TestStack;
/** A key auth publishes as a previous one, until the test restarts auth without it. */
const retiring = JSON.parse(newSigningKey()) as JWK & { kid: string };
const retiringPublic = { kty: retiring.kty, crv: retiring.crv, x: retiring.x, kid: retiring.kid };

/** An access token for `device`'s session, signed with the retiring key, as auth signed them before its rotation. */
async function tokenSignedWithRetiringKey(device: EdgeDevice): Promise<string> {
  const { sid } = JSON.parse(Buffer.from(device.tokens.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string };
  return new SignJWT({ sid, did: device.deviceId })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: retiring.kid, typ: 'at+jwt' })
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setSubject(device.userId)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(await importJWK(retiring, ACCESS_TOKEN_ALG));
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const direct = <S extends typeof KeyService | typeof ConversationService>(service: S, name: 'keys' | 'messaging') =>
  createClient(service, createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services[name].rpcPort}` }));

/** Opens Subscribe through the edge with `token`, and answers how it ended once it did (closing it if it opened). */
async function subscribeOutcome(token: string): Promise<Code | 'opened'> {
  const abort = new AbortController();
  const stream = edgeClient(DeliveryService, stack.edgeUrl, { accessToken: token }).subscribe({}, { signal: abort.signal });
  try {
    for await (const res of stream) {
      if (res.event.case === 'queueEmpty') return 'opened';
    }
    return 'opened';
  } catch (err) {
    return ConnectError.from(err).code;
  } finally {
    abort.abort();
  }
}

describe('a signing key removed from the JWKS', () => {
  beforeAll(async () => {
    stack = await startTestStack({
      services: ['auth', 'keys', 'messaging', 'edge'],
      env: { auth: { BCRYPT_COST: '4', AUTH_PREVIOUS_SIGNING_KEYS: JSON.stringify([retiringPublic]) } },
    });
  });

  afterAll(() => stack?.cleanup());

  it('is refused at once by the edge and every service, not after their cached key sets expire', async () => {
    const alice = await signUp(stack, 'alice');
    const token = await tokenSignedWithRetiringKey(alice);
    // Accepted everywhere while auth publishes the key: each verifier now holds it in its cached key set.
    await direct(KeyService, 'keys').getTreeHead({}, bearer(token));
    await direct(ConversationService, 'messaging').listConversations({}, bearer(token));
    expect(await subscribeOutcome(token)).toBe('opened');

    await stack.services.auth.stop();
    await stack.services.auth.start({ AUTH_PREVIOUS_SIGNING_KEYS: '' });

    // Their key sets are 5 minutes fresh; only auth.signing_key.removed makes them refuse this soon.
    for (const call of [
      () => direct(KeyService, 'keys').getTreeHead({}, bearer(token)),
      () => direct(ConversationService, 'messaging').listConversations({}, bearer(token)),
    ]) {
      const outcome = () => call().then(() => 'accepted', (err: unknown) => ConnectError.from(err).rawMessage);
      expect(await eventually(outcome, (o) => o !== 'accepted')).toBe('invalid access token: log in again');
    }
    const edgeEnds = () => stack.metrics('edge').then((text) => metricValue(text, 'parley_edge_streams_ended_total', { reason: 'unauthenticated' }));
    const endsBefore = await edgeEnds();
    expect(await eventually(() => subscribeOutcome(token), (outcome) => outcome === Code.Unauthenticated)).toBe(Code.Unauthenticated);
    // The edge refused it itself: no stream opened (and was then ended by messaging).
    expect(await edgeEnds()).toBe(endsBefore);
    // The current key still works everywhere.
    await direct(KeyService, 'keys').getTreeHead({}, bearer(alice.tokens.accessToken));
    expect(await subscribeOutcome(alice.tokens.accessToken)).toBe('opened');
  });
});
