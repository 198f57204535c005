import { randomBytes } from 'node:crypto';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_PROOF_HEADER, ClientAddressProofs, systemClock } from '@parley/platform';
import { AuthService } from '@parley/proto';
import { TEST_CLIENT_ADDRESS_SECRET, edgeClient, startTestStack, uniqueUsername, type TestStack } from '@parley/testing';

let stack: TestStack;
let addresses = 0;
/** A fresh address per case, so buckets never carry over. */
const address = () => `203.0.113.${++addresses}`;

const theEdge = new ClientAddressProofs({ current: TEST_CLIENT_ADDRESS_SECRET });
const impostor = new ClientAddressProofs({ current: randomBytes(32).toString('hex') });
const tenMinutesAgo = new ClientAddressProofs({ current: TEST_CLIENT_ADDRESS_SECRET }, { ...systemClock, now: () => Date.now() - 600_000 });

/** The addresses auth's per-address login limit has counted failures for. */
async function countedAddresses(): Promise<string[]> {
  const rows = await stack.query<{ subject: string }>('auth', `select subject from rate_limit_bucket where policy = 'login-failures-per-address' order by subject`);
  return rows.map((r) => r.subject);
}

/** A failed login straight to auth at `rpcPort`, claiming `claimed` as the client's address with `proof`. */
async function failLoginDirectly(rpcPort: number, claimed: string, proof?: string): Promise<void> {
  const auth = createClient(AuthService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${rpcPort}` }));
  const headers: Record<string, string> = { [CLIENT_ADDRESS_HEADER]: claimed };
  if (proof) headers[CLIENT_ADDRESS_PROOF_HEADER] = proof;
  await expect(auth.login({ username: uniqueUsername(), password: 'not the password', registrationId: 1 }, { headers })).rejects.toThrow(/wrong username or password/);
}

describe('the client address header', () => {
  beforeAll(async () => {
    stack = await startTestStack({ services: ['auth', 'edge'], env: { auth: { BCRYPT_COST: '4' } } });
  });

  afterAll(() => stack?.cleanup());

  it('through the edge: auth counts the address the edge saw, whatever the client claims', async () => {
    const claimed = address();
    const auth = edgeClient(AuthService, stack.edgeUrl);
    const forged = { [CLIENT_ADDRESS_HEADER]: claimed, [CLIENT_ADDRESS_PROOF_HEADER]: theEdge.sign(claimed)! };
    await expect(auth.login({ username: uniqueUsername(), password: 'not the password', registrationId: 1 }, { headers: forged })).rejects.toThrow(/wrong username or password/);
    expect(await countedAddresses()).toEqual(['127.0.0.1']);
  });

  it.each([
    ['no proof', undefined],
    ['a proof signed with another secret', (a: string) => impostor.sign(a)],
    ['a proof for another address', () => theEdge.sign('198.51.100.1')],
    ['a stale proof', (a: string) => tenMinutesAgo.sign(a)],
    ['a malformed proof', () => 'yesterday.trust-me'],
  ])('straight to auth with %s: ignored, the call counts as from an unknown address', async (_case, proofOf) => {
    const claimed = address();
    await failLoginDirectly(stack.services.auth.rpcPort, claimed, proofOf?.(claimed));
    const counted = await countedAddresses();
    expect(counted).toContain('unknown');
    expect(counted).not.toContain(claimed);
  });

  it("straight to auth with the edge's proof: trusted", async () => {
    const claimed = address();
    await failLoginDirectly(stack.services.auth.rpcPort, claimed, theEdge.sign(claimed));
    expect(await countedAddresses()).toContain(claimed);
  });

  it('during a rotation: a proof under the previous secret is still accepted, one under neither is not', async () => {
    const next = randomBytes(32).toString('hex');
    const rotated = await stack.startReplica('auth', { CLIENT_ADDRESS_SECRET: next, CLIENT_ADDRESS_PREVIOUS_SECRET: TEST_CLIENT_ADDRESS_SECRET });
    const [underPrevious, underNext, underNeither] = [address(), address(), address()];
    await failLoginDirectly(rotated.process.rpcPort, underPrevious, theEdge.sign(underPrevious));
    await failLoginDirectly(rotated.process.rpcPort, underNext, new ClientAddressProofs({ current: next }).sign(underNext));
    await failLoginDirectly(rotated.process.rpcPort, underNeither, impostor.sign(underNeither));
    const counted = await countedAddresses();
    expect(counted).toEqual(expect.arrayContaining([underPrevious, underNext]));
    expect(counted).not.toContain(underNeither);
  });
});
