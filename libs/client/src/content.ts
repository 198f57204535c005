import type { PeerDevice } from './crypto.js';

/** A file sent with a message: uploaded encrypted to media; the key and digest travel end to end. */
export interface Attachment {
  mediaId: string;
  /** The key the file was encrypted with, base64. */
  key: string;
  /** SHA-256 of the encrypted file, base64, checked after download. */
  digest: string;
  size: number;
  contentType: string;
  fileName?: string;
}

/** What a message says, inside the end-to-end encryption: the server never reads it. */
export type Content =
  | { kind: 'text'; text: string; attachments?: Attachment[] }
  | { kind: 'edit'; targetMessageId: string; text: string }
  | { kind: 'reaction'; targetMessageId: string; emoji: string; remove?: boolean }
  | { kind: 'receipt'; receipt: 'delivered' | 'read'; messageIds: string[] }
  | { kind: 'typing'; typing: boolean };

const VERSION = 1;
const KINDS = new Set<Content['kind']>(['text', 'edit', 'reaction', 'receipt', 'typing']);

export function encodeContent(content: Content): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: VERSION, ...content }));
}

/** The content of a decrypted plaintext; throws on anything this SDK did not write. */
export function decodeContent(plaintext: Uint8Array | string): Content {
  const parsed: unknown = JSON.parse(typeof plaintext === 'string' ? plaintext : new TextDecoder().decode(plaintext));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('message content is not an object');
  const { v, ...content } = parsed as { v?: unknown; kind?: unknown };
  if (v !== VERSION) throw new Error(`message content version ${String(v)} is not ${VERSION}`);
  if (!KINDS.has(content.kind as Content['kind'])) throw new Error(`unknown message kind ${String(content.kind)}`);
  return content as Content;
}

/** A decrypted message. Call `stored()` once the app has kept it: only then is it acked. */
export interface IncomingMessage {
  deliveryId: bigint;
  conversationId: string;
  messageId: string;
  seq: bigint;
  sender: PeerDevice;
  /** Milliseconds since the epoch, by the server's clock. */
  serverTime: number;
  content: Content;
  /** Says the app stored the message; the SDK acks it in the next batch. */
  stored(): void;
}

/** A message its sender deleted for everyone. */
export interface Retraction {
  conversationId: string;
  messageId: string;
  seq: bigint;
  senderUserId: string;
}
