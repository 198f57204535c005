import { ClientAddressProofs } from './client-address-proof.js';

const SECRET = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

/** A clock that stays where the test puts it. */
function clockAt(ms: number) {
  return { now: () => ms, schedule: () => () => undefined };
}

describe('ClientAddressProofs', () => {
  const now = Date.UTC(2026, 11, 7, 12);
  const edge = new ClientAddressProofs({ current: SECRET }, clockAt(now));

  it("accepts the edge's proof of the address it signed, and nothing else", () => {
    const proof = edge.sign('203.0.113.7')!;
    expect(edge.verify('203.0.113.7', proof)).toBe(true);
    expect(edge.verify('203.0.113.8', proof)).toBe(false);
    expect(edge.verify('203.0.113.7', null)).toBe(false);
    expect(edge.verify('203.0.113.7', proof.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBe(false);
    expect(edge.verify('203.0.113.7', 'not-a-proof')).toBe(false);
    expect(new ClientAddressProofs({ current: OTHER }, clockAt(now)).verify('203.0.113.7', proof)).toBe(false);
  });

  it('accepts a proof for 5 minutes either side of its time', () => {
    const proof = edge.sign('203.0.113.7')!;
    for (const [skewMs, accepted] of [
      [300_000, true],
      [-300_000, true],
      [301_000, false],
      [-301_000, false],
    ] as const) {
      expect([skewMs, new ClientAddressProofs({ current: SECRET }, clockAt(now + skewMs)).verify('203.0.113.7', proof)]).toEqual([skewMs, accepted]);
    }
  });

  it('during a rotation: signs with the current secret, accepts proofs under either', () => {
    const rotated = new ClientAddressProofs({ current: OTHER, previous: SECRET }, clockAt(now));
    expect(rotated.verify('203.0.113.7', edge.sign('203.0.113.7')!)).toBe(true);
    expect(new ClientAddressProofs({ current: OTHER }, clockAt(now)).verify('203.0.113.7', rotated.sign('203.0.113.7')!)).toBe(true);
    expect(edge.verify('203.0.113.7', rotated.sign('203.0.113.7')!)).toBe(false);
  });

  it('without a secret, signs nothing and accepts nothing', () => {
    const none = new ClientAddressProofs({ current: '' }, clockAt(now));
    expect([none.enabled, none.sign('203.0.113.7'), none.verify('203.0.113.7', edge.sign('203.0.113.7')!)]).toEqual([false, undefined, false]);
  });
});
