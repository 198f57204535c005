import type { IncomingMessage } from 'node:http';
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_PROOF_HEADER, type ClientAddressProofs } from '@parley/platform';

/**
 * Stamps the request with the client's address for the backends' per-address limits, and the
 * proof that the edge set it, replacing whatever the client sent in those headers. Behind
 * `trustedHops` proxies the address is that many entries from the right of X-Forwarded-For;
 * anything further left the client could have written.
 */
export function clientAddressPolicy(trustedHops: number, proofs: ClientAddressProofs) {
  return (req: IncomingMessage): false => {
    const address = clientAddress(req, trustedHops);
    req.headers[CLIENT_ADDRESS_HEADER] = address;
    const proof = proofs.sign(address);
    if (proof) req.headers[CLIENT_ADDRESS_PROOF_HEADER] = proof;
    else delete req.headers[CLIENT_ADDRESS_PROOF_HEADER];
    return false;
  };
}

export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops === 0) return socketAddress;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return forwarded[forwarded.length - trustedHops] ?? forwarded[0] ?? socketAddress;
}
