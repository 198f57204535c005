import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { canonicalUuid, rpcError, type Caller } from '@parley/platform';
import { DeliverySchema, type OutgoingEnvelope } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { envelopeOf, type SentMessage } from './message-sender.js';
import { validEnvelopes } from './outgoing-envelopes.js';

export interface SendMessageInput {
  conversationId: string;
  clientMessageId: string;
  envelopes: OutgoingEnvelope[];
  ephemeral: boolean;
  frankingCommitment: Uint8Array;
}

/**
 * Queues one envelope per device of the conversation: every active device of the other members
 * and the sender's own other devices. The envelope set must match those devices exactly, so a
 * conversation with no device to address (the sender alone in a group, on one device) takes zero
 * envelopes, and the message is still stored and given its seq, so seqs stay gapless.
 * A retry with the same client_message_id is answered from the first send.
 */
export async function sendMessage(deps: Pick<MessagingDeps, 'sender' | 'live' | 'settings' | 'sanctions'>, caller: Caller, input: SendMessageInput): Promise<SentMessage> {
  const conversationId = canonicalUuid(input.conversationId);
  const clientMessageId = input.clientMessageId;
  const envelopes = validEnvelopes(input.envelopes, deps.settings);
  await deps.sanctions.require(caller.userId, 'send');
  if (input.ephemeral) {
    // A reporting tag names a stored message; an ephemeral send has none to name.
    if (input.frankingCommitment.length) throw rpcError.invalidArgument('an ephemeral send cannot be franked: leave franking_commitment empty');
    // Checked like a stored send (and counted against the sender's limit), then handed to the connected devices only; nothing is kept.
    const targets = await deps.sender.ephemeralTargets({ caller, conversationId, envelopes });
    const sentAt = new Date();
    for (const e of targets) {
      const delivery = create(DeliverySchema, {
        id: 0n,
        serverTime: timestampFromDate(sentAt),
        payload: { case: 'envelope', value: envelopeOf({ caller, conversationId }, e, { messageId: '', seq: 0n, ephemeral: true }) },
      });
      deps.live.ephemeral(e, delivery);
    }
    return { messageId: '', seq: 0, sentAt, duplicate: false };
  }
  return deps.sender.send({ caller, conversationId, clientMessageId, envelopes, frankingCommitment: input.frankingCommitment });
}
