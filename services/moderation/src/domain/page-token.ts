import { rpcError } from '@parley/platform';

/** A keyset position (a time and an id, or a sequence number) as an opaque page token. */
export function encodePageToken(position: (string | number)[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodePageToken(token: string, arity: number): string[] | undefined {
  if (!token) return undefined;
  try {
    const position: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(position) && position.length === arity && position.every((p) => typeof p === 'string')) return position as string[];
  } catch {
    // Falls through to the refusal.
  }
  throw rpcError.invalidArgument('page_token is not one this RPC returned: pass next_page_token as it came');
}
