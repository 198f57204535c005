/**
 * Message franking for a client app, end to end: frank a message before encrypting it, open the
 * franked content after decrypting it, and build the report of a received message. The franked
 * content is the franking key followed by the plaintext; it is what gets encrypted, so the key
 * travels only inside the ciphertext. Browser-safe (WebCrypto), like franking.ts.
 */
import { FRANKING_KEY_BYTES, frankingCommitment, newFrankingKey, openFrankingCommitment } from './franking.js';

/** A message ready to send: `content` is what the client encrypts; `commitment` goes beside the envelopes. */
export interface FrankedMessage {
  content: Uint8Array;
  commitment: Uint8Array;
}

export async function frankMessage(plaintext: Uint8Array): Promise<FrankedMessage> {
  const frankingKey = newFrankingKey();
  const content = new Uint8Array(FRANKING_KEY_BYTES + plaintext.length);
  content.set(frankingKey);
  content.set(plaintext, FRANKING_KEY_BYTES);
  return { content, commitment: await frankingCommitment(frankingKey, plaintext) };
}

/** Splits decrypted franked content into its franking key and plaintext. */
export function openFrankedContent(content: Uint8Array): { frankingKey: Uint8Array; plaintext: Uint8Array } {
  if (content.length < FRANKING_KEY_BYTES) throw new RangeError(`franked content starts with a ${FRANKING_KEY_BYTES}-byte franking key; got ${content.length} bytes`);
  return { frankingKey: content.slice(0, FRANKING_KEY_BYTES), plaintext: content.slice(FRANKING_KEY_BYTES) };
}

/** The fields of the reporting tag delivered with an envelope that a report needs (parley.messaging.v1.ReportingTag). */
export interface DeliveredReportingTag {
  keyId: string;
  tag: Uint8Array;
  commitment: Uint8Array;
  senderUserId: string;
  senderDeviceId: number;
  recipientUserId: string;
  recipientDeviceId: number;
  conversationId: string;
  messageId: string;
  serverTime?: unknown;
}

/** The message-identifying part and evidence of a ModerationService/ReportMessage request. */
export interface MessageReport<T extends DeliveredReportingTag> {
  conversationId: string;
  messageId: string;
  senderUserId: string;
  evidence: { plaintext: Uint8Array; frankingKey: Uint8Array; reportingTag: T };
}

/**
 * Builds the report of a received franked message from its decrypted content and delivered tag,
 * after checking locally that they open the tagged commitment: a report that would be refused as
 * unverified is an error here, before anything is sent. Add the reason and details to send it.
 */
export async function buildMessageReport<T extends DeliveredReportingTag>(content: Uint8Array, reportingTag: T): Promise<MessageReport<T>> {
  const { frankingKey, plaintext } = openFrankedContent(content);
  if (!(await openFrankingCommitment(frankingKey, plaintext, reportingTag.commitment))) {
    throw new Error('this message does not open its reporting tag\'s commitment: its sender did not frank what you received, so it can only be reported unverified');
  }
  return {
    conversationId: reportingTag.conversationId,
    messageId: reportingTag.messageId,
    senderUserId: reportingTag.senderUserId,
    evidence: { plaintext, frankingKey, reportingTag },
  };
}
