import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Interceptor } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { CLIENT_ADDRESS_HEADER } from '../observability/request-context.js';
import { systemClock, type Clock } from '../time/clock.js';

/** Proves that the edge set CLIENT_ADDRESS_HEADER: `<unix seconds>.<base64url HMAC-SHA256 of "<seconds>.<address>">`. */
export const CLIENT_ADDRESS_PROOF_HEADER = 'x-parley-client-address-proof';

/** How far a proof's time may be from the verifier's, either way: a captured one is replayable only this long. */
const PROOF_MAX_SKEW_SECONDS = 300;

export interface ClientAddressSecrets {
  /** Signs, and verifies. Empty: this process can neither sign nor accept a client address. */
  current: string;
  /** Verifies only, during a rotation. */
  previous?: string;
}

/**
 * The edge's word for a client's address, between services that share CLIENT_ADDRESS_SECRET.
 * Internal RPC has no transport authentication, so anyone on the network could send the address
 * header; only the edge holds the secret that signs it. A rotation: give every service the new
 * secret as current and the old as previous, then drop previous once all run with the new one.
 */
export class ClientAddressProofs {
  private readonly keys: Buffer[];

  constructor(
    secrets: ClientAddressSecrets,
    private readonly clock: Clock = systemClock,
  ) {
    this.keys = [secrets.current, secrets.previous ?? ''].filter((s) => s !== '').map((s) => Buffer.from(s, 'utf8'));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The proof for `address`, now; undefined when this process has no secret. */
  sign(address: string): string | undefined {
    const key = this.keys[0];
    if (!key) return undefined;
    const seconds = Math.floor(this.clock.now() / 1000);
    return `${seconds}.${mac(key, seconds, address)}`;
  }

  /** Whether `proof` is a fresh proof of `address` under the current or the previous secret. */
  verify(address: string, proof: string | null): boolean {
    const dot = proof?.indexOf('.') ?? -1;
    if (!proof || dot < 1) return false;
    const seconds = Number(proof.slice(0, dot));
    if (!Number.isSafeInteger(seconds) || Math.abs(this.clock.now() / 1000 - seconds) > PROOF_MAX_SKEW_SECONDS) return false;
    const given = Buffer.from(proof.slice(dot + 1), 'utf8');
    return this.keys.some((key) => {
      const expected = Buffer.from(mac(key, seconds, address), 'utf8');
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }
}

function mac(key: Buffer, seconds: number, address: string): string {
  return createHmac('sha256', key).update(`${seconds}.${address}`).digest('base64url');
}

/**
 * In the server chain: a call whose client address comes without a valid proof loses the header,
 * so nothing after it (rate limits per address) can trust a value anyone on the network could set.
 */
export function clientAddressGuard(proofs: ClientAddressProofs, log: Logger): Interceptor {
  return (next) => (req) => {
    const address = req.header.get(CLIENT_ADDRESS_HEADER);
    if (address !== null && !proofs.verify(address, req.header.get(CLIENT_ADDRESS_PROOF_HEADER))) {
      req.header.delete(CLIENT_ADDRESS_HEADER);
      log.info({ rpc: req.url }, `ignoring ${CLIENT_ADDRESS_HEADER}: it carries no valid ${CLIENT_ADDRESS_PROOF_HEADER} (only the edge, holding CLIENT_ADDRESS_SECRET, sets it)`);
    }
    return next(req);
  };
}
