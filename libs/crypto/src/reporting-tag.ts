/**
 * Message franking, the server's half: the reporting tag messaging attaches to each queued
 * envelope, and moderation checks on a report. A tag binds the sender's commitment to who sent it,
 * to which device, in which conversation, as which message, and when; moving it to another
 * context changes the MAC input. Server-only (node:crypto): it runs per envelope on the send path.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { FRANKING_COMMITMENT_BYTES } from './franking.js';

export const REPORTING_TAG_BYTES = 32;
const SERVER_KEY_MIN_BYTES = 32;
const DOMAIN = 'parley-reporting-tag-v1';

/** What a tag attests; the fields of parley.messaging.v1.ReportingTag other than the tag. */
export interface ReportingTagContext {
  keyId: string;
  commitment: Uint8Array;
  senderUserId: string;
  senderDeviceId: number;
  recipientUserId: string;
  recipientDeviceId: number;
  conversationId: string;
  messageId: string;
  /** Milliseconds since the epoch. */
  serverTimeMs: bigint;
}

function field(bytes: Uint8Array): Buffer[] {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return [length, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
}

function text(value: string): Buffer[] {
  return field(Buffer.from(value, 'utf8'));
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/**
 * The MAC input, spelled out so any implementation (SQL, another language) can reproduce it:
 * "parley-reporting-tag-v1", then key id, commitment, sender user id, sender device id (u32 BE),
 * recipient user id, recipient device id (u32 BE), conversation id, message id, server time in ms
 * (u64 BE); each string and byte field prefixed by its length as u16 BE. Ids are lowercase UUIDs.
 */
export function encodeReportingTagContext(ctx: ReportingTagContext): Buffer {
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(ctx.serverTimeMs);
  return Buffer.concat([
    Buffer.from(DOMAIN, 'utf8'),
    ...text(ctx.keyId),
    ...field(ctx.commitment),
    ...text(ctx.senderUserId),
    u32(ctx.senderDeviceId),
    ...text(ctx.recipientUserId),
    u32(ctx.recipientDeviceId),
    ...text(ctx.conversationId),
    ...text(ctx.messageId),
    time,
  ]);
}

/**
 * The tag for `ctx` under the server franking key named by ctx.keyId. A hot caller passes the key
 * as a KeyObject (`createSecretKey`), made once: importing raw key bytes costs several times the MAC.
 */
export function reportingTag(serverKey: Uint8Array | KeyObject, ctx: ReportingTagContext): Uint8Array {
  if (ctx.commitment.length !== FRANKING_COMMITMENT_BYTES) {
    throw new RangeError(`a franking commitment is ${FRANKING_COMMITMENT_BYTES} bytes, got ${ctx.commitment.length}`);
  }
  return createHmac('sha256', serverKey).update(encodeReportingTagContext(ctx)).digest();
}

/** Whether `tag` is the tag for `ctx` under `serverKey` (constant-time). */
export function verifyReportingTag(serverKey: Uint8Array | KeyObject, ctx: ReportingTagContext, tag: Uint8Array): boolean {
  if (tag.length !== REPORTING_TAG_BYTES || ctx.commitment.length !== FRANKING_COMMITMENT_BYTES) return false;
  return timingSafeEqual(reportingTag(serverKey, ctx), tag);
}

/** The server franking keys by id, and the one new tags are made with. */
export interface FrankingKeyring {
  readonly activeKeyId: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

/**
 * Parses a keyring from config: `keys` is "id:base64,id:base64" (each key at least 32 bytes), and
 * `activeKeyId` must name one of them. Rotation adds a key, makes it active, and keeps the old one
 * for as long as tags made with it may be reported.
 */
export function parseFrankingKeyring(keys: string, activeKeyId: string): FrankingKeyring {
  const parsed = new Map<string, Uint8Array>();
  for (const entry of keys.split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new Error(`franking key entry "${entry.slice(0, 20)}…" must be id:base64 with a 1–64 character id of letters, digits, _ . -`);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length < SERVER_KEY_MIN_BYTES) throw new Error(`franking key ${id} must be at least ${SERVER_KEY_MIN_BYTES} bytes of base64, got ${key.length}`);
    if (parsed.has(id)) throw new Error(`franking key ${id} is listed twice`);
    parsed.set(id, new Uint8Array(key));
  }
  if (!parsed.has(activeKeyId)) throw new Error(`the active franking key id "${activeKeyId}" is not among the keys (${[...parsed.keys()].join(', ') || 'none'})`);
  return { activeKeyId, keys: parsed };
}
