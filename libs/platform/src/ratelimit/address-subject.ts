import { isIPv4, isIPv6 } from 'node:net';

/**
 * The rate-limit subject of a client address: an IPv4 address as itself, an IPv6 address as its
 * /64 (one subscriber is routinely given a whole /64, so a per-address limit keyed by the full
 * address would be 2^64 limits), an IPv4-mapped IPv6 address as its IPv4 address. Anything else
 * (e.g. 'unknown') is its own subject.
 */
export function addressLimitSubject(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, lowercase hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().replace(/%.*$/, '').split('::');
  const parse = (part: string) => (part ? part.split(':').flatMap(groupsOfPart) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}

/** A group, or the two groups an embedded dotted IPv4 address stands for. */
function groupsOfPart(part: string): string[] {
  if (!part.includes('.')) return [part];
  const [a, b, c, d] = part.split('.').map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
