import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { MAX_SOLUTION_BYTES, proofOfWorkBits, rpcError, sqlRows, type Clock } from '@parley/platform';

export interface ProofOfWorkSettings {
  /** Whether Register needs a solved challenge (REGISTRATION_POW). */
  enabled: boolean;
  /** Leading zero bits a solution's hash must have (REGISTRATION_POW_DIFFICULTY). */
  difficultyBits: number;
  ttlSeconds: number;
}

export interface IssuedChallenge {
  challenge: string;
  difficultyBits: number;
  expiresAt: Date;
}

/** A challenge's bytes: expiry (ms since the epoch, 8 bytes), difficulty (1), nonce (16), then their HMAC (32). */
const NONCE_BYTES = 16;
const SIGNED_BYTES = 8 + 1 + NONCE_BYTES;
const MAC_BYTES = 32;
const PRUNE_PROBABILITY = 0.01;
const GET_ONE = 'get one with AuthService/GetRegistrationChallenge';

/**
 * Register's optional proof of work. A challenge is stateless until used: its expiry, difficulty
 * and nonce under an HMAC whose key every replica derives from AUTH_SIGNING_KEY (rotating that key
 * voids the challenges in flight, which live minutes). A used challenge's nonce is kept until it
 * expires, so each challenge registers one account at most.
 */
export class RegistrationChallenges {
  constructor(
    private readonly key: Buffer,
    readonly settings: ProofOfWorkSettings,
    private readonly clock: Clock,
  ) {}

  static fromSigningKey(signingJwk: string, settings: ProofOfWorkSettings, clock: Clock): RegistrationChallenges {
    const { d } = JSON.parse(signingJwk) as { d: string };
    return new RegistrationChallenges(createHmac('sha256', 'parley registration challenge').update(d).digest(), settings, clock);
  }

  /** A new challenge, or none when the proof of work is off. */
  issue(): IssuedChallenge | undefined {
    if (!this.settings.enabled) return undefined;
    const expiresAt = new Date(this.clock.now() + this.settings.ttlSeconds * 1000);
    const signed = Buffer.alloc(SIGNED_BYTES);
    signed.writeBigUInt64BE(BigInt(expiresAt.getTime()));
    signed.writeUInt8(this.settings.difficultyBits, 8);
    randomBytes(NONCE_BYTES).copy(signed, 9);
    return { challenge: Buffer.concat([signed, this.mac(signed)]).toString('base64url'), difficultyBits: this.settings.difficultyBits, expiresAt };
  }

  /**
   * Checks the challenge and its solution and marks the challenge used (in its own statement, so a
   * registration that fails later still spent it). Nothing is asked when the proof of work is off.
   */
  async redeem(em: EntityManager, challenge: string, solution: Uint8Array): Promise<void> {
    if (!this.settings.enabled) return;
    if (!challenge) throw rpcError.invalidArgument(`this server asks for a proof of work: ${GET_ONE}, solve it, and send challenge and challenge_solution`);
    const bytes = Buffer.from(challenge, 'base64url');
    const signed = bytes.subarray(0, SIGNED_BYTES);
    if (bytes.length !== SIGNED_BYTES + MAC_BYTES || !timingSafeEqual(bytes.subarray(SIGNED_BYTES), this.mac(signed))) {
      throw rpcError.invalidArgument(`challenge was not issued by this server; ${GET_ONE}`);
    }
    const expiresAt = new Date(Number(signed.readBigUInt64BE(0)));
    if (expiresAt.getTime() <= this.clock.now()) throw rpcError.failedPrecondition(`challenge expired; ${GET_ONE}`);
    const difficultyBits = signed.readUInt8(8);
    if (solution.length > MAX_SOLUTION_BYTES || proofOfWorkBits(challenge, solution) < difficultyBits) {
      throw rpcError.invalidArgument(
        `challenge_solution does not solve the challenge: SHA-256(challenge ‖ solution) must start with ${difficultyBits} zero bits, and the solution be at most ${MAX_SOLUTION_BYTES} bytes`,
      );
    }
    const nonce = signed.subarray(9).toString('hex');
    const fresh = await sqlRows(em, 'insert into spent_challenge (nonce, expires_at) values (?, ?) on conflict do nothing returning nonce', [nonce, expiresAt]);
    if (fresh.length === 0) throw rpcError.failedPrecondition(`challenge was already used; ${GET_ONE}`);
    if (Math.random() < PRUNE_PROBABILITY) await sqlRows(em, 'delete from spent_challenge where expires_at < ?', [new Date(this.clock.now())]);
  }

  private mac(signed: Buffer): Buffer {
    return createHmac('sha256', this.key).update(signed).digest();
  }
}
