import { UUID_PATTERN, rpcError } from '@parley/platform';

const refused = () => rpcError.invalidArgument('page_token is not one this RPC returned: pass next_page_token as it came');

/** A keyset position (a time and an id, or a sequence number) as an opaque page token. */
export function encodePageToken(position: string[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decode(token: string, arity: number): string[] {
  try {
    const position: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(position) && position.length === arity && position.every((p) => typeof p === 'string')) return position as string[];
  } catch {
    // Falls through to the refusal.
  }
  throw refused();
}

/** The (time, id) after which a page starts; none for the first page. */
export function decodeTimeIdToken(token: string): [string, string] | undefined {
  if (!token) return undefined;
  const [at, id] = decode(token, 2) as [string, string];
  if (Number.isNaN(Date.parse(at)) || !UUID_PATTERN.test(id)) throw refused();
  return [at, id];
}

/** The sequence number after which a page starts; 0 for the first page. */
export function decodeSeqToken(token: string): string {
  if (!token) return '0';
  const [seq] = decode(token, 1) as [string];
  if (!/^\d{1,18}$/.test(seq)) throw refused();
  return seq;
}
