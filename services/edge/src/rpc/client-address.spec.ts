import type { IncomingMessage } from 'node:http';
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_PROOF_HEADER, ClientAddressProofs } from '@parley/platform';
import { clientAddress, clientAddressPolicy } from './client-address.js';

function request(remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('uses the socket address and ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(clientAddress(request('10.0.0.9', { 'x-forwarded-for': '1.2.3.4' }), 0)).toBe('10.0.0.9');
  });

  it('takes the entry the trusted proxies appended, not one the client wrote', () => {
    const req = request('10.0.0.9', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.0.0.2' });
    expect(clientAddress(req, 1)).toBe('10.0.0.2');
    expect(clientAddress(req, 2)).toBe('203.0.113.7');
  });

  it('falls back to the leftmost entry, then the socket, when the header is short or missing', () => {
    expect(clientAddress(request('10.0.0.9', { 'x-forwarded-for': '203.0.113.7' }), 3)).toBe('203.0.113.7');
    expect(clientAddress(request('10.0.0.9'), 1)).toBe('10.0.0.9');
  });
});

describe('clientAddressPolicy', () => {
  const proofs = new ClientAddressProofs({ current: 's'.repeat(32) });

  it('overwrites a client-supplied address and proof with its own, and lets the request go on', () => {
    const req = request('198.51.100.4', { [CLIENT_ADDRESS_HEADER]: 'spoofed', [CLIENT_ADDRESS_PROOF_HEADER]: 'forged' });
    expect(clientAddressPolicy(0, proofs)(req)).toBe(false);
    expect(req.headers[CLIENT_ADDRESS_HEADER]).toBe('198.51.100.4');
    expect(proofs.verify('198.51.100.4', req.headers[CLIENT_ADDRESS_PROOF_HEADER] as string)).toBe(true);
  });

  it('without a secret, sends no proof, not even the one the client wrote', () => {
    const req = request('198.51.100.4', { [CLIENT_ADDRESS_PROOF_HEADER]: 'forged' });
    clientAddressPolicy(0, new ClientAddressProofs({ current: '' }))(req);
    expect(req.headers[CLIENT_ADDRESS_PROOF_HEADER]).toBeUndefined();
  });
});
