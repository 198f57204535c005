import { createSecretKey, type KeyObject } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { reportingTag, type FrankingKeyring } from '@parley/crypto';
import { ReportingTagSchema, type ReportingTag } from '@parley/proto';

/** What one envelope's tag attests, besides the sender's commitment. */
export interface TaggedDelivery {
  senderUserId: string;
  senderDeviceId: number;
  recipientUserId: string;
  recipientDeviceId: number;
  conversationId: string;
  messageId: string;
  /** The message's committed server time (its `sent_at`, the Delivery's server_time). */
  serverTime: Date;
}

/**
 * Tags the envelopes of franked messages under the active server franking key. A tag is made
 * once, when its envelope is queued, and stored in the queue row with the envelope: every path
 * that delivers it (the live signal, a fetch, any replica) carries those bytes unchanged, and a
 * later rotation of the active key never changes a tag already made.
 */
export class ReportingTagger {
  /** Imported once: a MAC under raw key bytes re-imports them, and costs several times more. */
  private readonly key: KeyObject;

  constructor(private readonly keyring: FrankingKeyring) {
    this.key = createSecretKey(keyring.keys.get(keyring.activeKeyId)!);
  }

  tag(commitment: Uint8Array, d: TaggedDelivery): ReportingTag {
    const { serverTime, ...ids } = d;
    const context = { keyId: this.keyring.activeKeyId, commitment, ...ids, serverTimeMs: BigInt(serverTime.getTime()) };
    return create(ReportingTagSchema, { keyId: context.keyId, commitment, ...ids, tag: reportingTag(this.key, context), serverTime: timestampFromDate(serverTime) });
  }
}
