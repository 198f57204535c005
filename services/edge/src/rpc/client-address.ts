import type { IncomingMessage } from 'node:http';
import { CLIENT_ADDRESS_HEADER } from '@parley/platform';

/**
 * Stamps the request with the client's address for the backends' per-address limits, replacing
 * whatever the client sent in that header. Behind `trustedHops` proxies the address is that many
 * entries from the right of X-Forwarded-For; anything further left the client could have written.
 */
export function clientAddressPolicy(trustedHops: number) {
  return (req: IncomingMessage): false => {
    req.headers[CLIENT_ADDRESS_HEADER] = clientAddress(req, trustedHops);
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
