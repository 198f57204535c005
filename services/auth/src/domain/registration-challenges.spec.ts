import type { EntityManager } from '@mikro-orm/postgresql';
import { Code, ConnectError } from '@connectrpc/connect';
import { newSigningKey, proofOfWorkBits, solveProofOfWork } from '@parley/platform';
import { ManualClock } from '@parley/testing';
import { RegistrationChallenges } from './registration-challenges.js';

const SETTINGS = { enabled: true, difficultyBits: 8, ttlSeconds: 300 };
/** The checks below refuse before the challenge is marked used, so they never reach the database. */
const NO_DATABASE = undefined as unknown as EntityManager;

async function refusal(p: Promise<unknown>): Promise<[string, string]> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  return err ? [Code[err.code], err.rawMessage] : ['ok', ''];
}

describe('RegistrationChallenges', () => {
  const key = newSigningKey();
  let clock: ManualClock;
  let challenges: RegistrationChallenges;
  beforeEach(() => {
    clock = new ManualClock();
    challenges = RegistrationChallenges.fromSigningKey(key, SETTINGS, clock);
  });

  it('issues nothing and asks nothing when the proof of work is off', async () => {
    const off = RegistrationChallenges.fromSigningKey(key, { ...SETTINGS, enabled: false }, clock);
    expect(off.issue()).toBeUndefined();
    expect(await refusal(off.redeem(NO_DATABASE, '', new Uint8Array()))).toEqual(['ok', '']);
  });

  it('issues a challenge with its difficulty and expiry', () => {
    const issued = challenges.issue()!;
    expect(issued.difficultyBits).toBe(8);
    expect(issued.expiresAt.getTime()).toBe(clock.now() + 300_000);
    expect(challenges.issue()!.challenge).not.toBe(issued.challenge);
  });

  it('refuses a Register without a challenge, saying where to get one', async () => {
    expect(await refusal(challenges.redeem(NO_DATABASE, '', new Uint8Array()))).toEqual([
      'InvalidArgument',
      'this server asks for a proof of work: get one with AuthService/GetRegistrationChallenge, solve it, and send challenge and challenge_solution',
    ]);
  });

  it('refuses a challenge another key signed, or one that was altered', async () => {
    const foreign = RegistrationChallenges.fromSigningKey(newSigningKey(), SETTINGS, clock).issue()!.challenge;
    const { challenge } = challenges.issue()!;
    const altered = `${challenge.slice(0, 10)}${challenge[10] === 'A' ? 'B' : 'A'}${challenge.slice(11)}`;
    for (const c of [foreign, altered, 'not a challenge']) {
      expect(await refusal(challenges.redeem(NO_DATABASE, c, solveProofOfWork(c, 8)))).toEqual([
        'InvalidArgument',
        'challenge was not issued by this server; get one with AuthService/GetRegistrationChallenge',
      ]);
    }
  });

  it('refuses an expired challenge', async () => {
    const { challenge } = challenges.issue()!;
    clock.advance(300_000);
    expect(await refusal(challenges.redeem(NO_DATABASE, challenge, solveProofOfWork(challenge, 8)))).toEqual([
      'FailedPrecondition',
      'challenge expired; get one with AuthService/GetRegistrationChallenge',
    ]);
  });

  it('refuses a solution short of the difficulty', async () => {
    const { challenge } = challenges.issue()!;
    let unsolved = new Uint8Array([0]);
    for (let n = 1; proofOfWorkBits(challenge, unsolved) >= 8; n++) unsolved = new Uint8Array([n]);
    const [code, message] = await refusal(challenges.redeem(NO_DATABASE, challenge, unsolved));
    expect([code, message]).toEqual([
      'InvalidArgument',
      'challenge_solution does not solve the challenge: SHA-256(challenge ‖ solution) must start with 8 zero bits, and the solution be at most 64 bytes',
    ]);
  });
});
