import { Code } from '@connectrpc/connect';
import { proofOfWorkBits, solveProofOfWork } from '@parley/platform';
import { AuthService } from '@parley/proto';
import { PASSWORD, connectErrorOf, edgeClient, startTestStack, uniqueUsername, type TestStack } from '@parley/testing';

/** Register's proof of work, turned on (REGISTRATION_POW) with a small difficulty; it is off by default (limits-through-edge.spec). */
const DIFFICULTY = 8;

let stack: TestStack;
let auth: ReturnType<typeof edgeClient<typeof AuthService>>;

beforeAll(async () => {
  stack = await startTestStack({
    services: ['auth', 'edge'],
    env: { auth: { BCRYPT_COST: '4', REGISTRATION_POW: 'true', REGISTRATION_POW_DIFFICULTY: String(DIFFICULTY) } },
  });
  auth = edgeClient(AuthService, stack.edgeUrl);
});

afterAll(() => stack?.cleanup());

const registration = (fields: { challenge?: string; challengeSolution?: Uint8Array } = {}) => ({
  username: uniqueUsername('pow'),
  password: PASSWORD,
  registrationId: 9,
  ...fields,
});

describe('Register with the proof of work on', () => {
  it('hands out a challenge with its difficulty and expiry, without a token', async () => {
    const res = await auth.getRegistrationChallenge({});
    expect(res.challenge).not.toBe('');
    expect(res.difficultyBits).toBe(DIFFICULTY);
    expect(Number(res.expiresAt!.seconds) * 1000).toBeGreaterThan(Date.now());
  });

  it('registers with a solved challenge, once: the same challenge again is refused', async () => {
    const { challenge, difficultyBits } = await auth.getRegistrationChallenge({});
    const challengeSolution = solveProofOfWork(challenge, difficultyBits);
    const res = await auth.register(registration({ challenge, challengeSolution }));
    expect(res.user?.id).toBeTruthy();
    const reused = await connectErrorOf(auth.register(registration({ challenge, challengeSolution })));
    expect([reused.code, reused.rawMessage]).toEqual([Code.FailedPrecondition, 'challenge was already used; get one with AuthService/GetRegistrationChallenge']);
  });

  it('refuses a Register without a challenge, or with an unsolved one, and registers nothing', async () => {
    const missing = registration();
    const refusedMissing = await connectErrorOf(auth.register(missing));
    expect([refusedMissing.code, refusedMissing.rawMessage]).toEqual([
      Code.InvalidArgument,
      'this server asks for a proof of work: get one with AuthService/GetRegistrationChallenge, solve it, and send challenge and challenge_solution',
    ]);
    const { challenge } = await auth.getRegistrationChallenge({});
    let challengeSolution = new Uint8Array([0]);
    for (let n = 1; proofOfWorkBits(challenge, challengeSolution) >= DIFFICULTY; n++) challengeSolution = new Uint8Array([n]);
    const unsolved = registration({ challenge, challengeSolution });
    const refusedUnsolved = await connectErrorOf(auth.register(unsolved));
    expect(refusedUnsolved.code).toBe(Code.InvalidArgument);
    expect(refusedUnsolved.rawMessage).toMatch(/^challenge_solution does not solve the challenge/);
    const users = await stack.query('auth', 'select 1 from app_user where username in ($1, $2)', [missing.username, unsolved.username]);
    expect(users).toEqual([]);
  });
});
