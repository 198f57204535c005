import { timestampMs } from '@bufbuild/protobuf/wkt';
import { FRANKING_COMMITMENT_BYTES, REPORTING_TAG_BYTES, openFrankingCommitment, verifyReportingTag, type FrankingKeyring } from '@parley/crypto';
import { UUID_PATTERN, rpcError } from '@parley/platform';
import type { FrankingEvidence } from '@parley/proto';

/** Year 9999: later than any tag, and well inside the tag's u64 of milliseconds. */
const MAX_SERVER_TIME_SECONDS = 253402300799n;

/** What the report says the evidence is about. */
export interface ReportedMessage {
  reporterUserId: string;
  conversationId: string;
  messageId: string;
  senderUserId: string;
}

/**
 * Verifies a message report's franking evidence, or refuses it with the reason: the tag first
 * (messaging's MAC over the commitment and its context, under the key its key id names), then the
 * commitment against the plaintext and franking key. The reporter must be the tag's recipient.
 * Replays (a tag reported before) are the caller's to refuse, as they need the database.
 */
export async function verifyFrankingEvidence(keyring: FrankingKeyring, report: ReportedMessage, evidence: FrankingEvidence): Promise<void> {
  const t = evidence.reportingTag;
  if (!t) throw rpcError.invalidArgument('evidence.reporting_tag is required');
  const malformed = [
    t.tag.length !== REPORTING_TAG_BYTES && `tag must be ${REPORTING_TAG_BYTES} bytes`,
    t.commitment.length !== FRANKING_COMMITMENT_BYTES && `commitment must be ${FRANKING_COMMITMENT_BYTES} bytes`,
    !t.serverTime && 'server_time is required',
    t.serverTime && (t.serverTime.seconds < 0n || t.serverTime.seconds > MAX_SERVER_TIME_SECONDS) && 'server_time is out of range',
    !t.keyId && 'key_id is required',
    ...(['senderUserId', 'recipientUserId', 'conversationId', 'messageId'] as const).map((f) => !UUID_PATTERN.test(t[f]) && `${f} must be a UUID`),
  ].filter(Boolean);
  if (malformed.length > 0) throw rpcError.invalidArgument(`evidence.reporting_tag doesn't parse: ${malformed.join('; ')}`);
  if (t.conversationId !== report.conversationId || t.messageId !== report.messageId || t.senderUserId !== report.senderUserId) {
    throw rpcError.invalidArgument('evidence.reporting_tag is for another message: its conversation, message and sender must be the report\'s');
  }
  const key = keyring.keys.get(t.keyId);
  if (!key) throw rpcError.failedPrecondition(`evidence.reporting_tag has key id "${t.keyId}", which this server does not know (a forged tag, or one older than the oldest kept key)`);
  if (t.recipientUserId !== report.reporterUserId) throw rpcError.permissionDenied('only the recipient of a message can report it with its reporting tag');
  const ctx = { ...t, serverTimeMs: BigInt(timestampMs(t.serverTime!)) };
  if (!verifyReportingTag(key, ctx, t.tag)) {
    throw rpcError.invalidArgument('unverified: the reporting tag does not match its context (a field was changed, or this server did not make it); report without evidence instead');
  }
  if (!(await openFrankingCommitment(evidence.frankingKey, evidence.plaintext, t.commitment))) {
    throw rpcError.invalidArgument('unverified: the plaintext and franking key do not open the tagged commitment; report without evidence instead');
  }
}
