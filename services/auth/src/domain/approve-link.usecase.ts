import { LockMode } from '@mikro-orm/core';
import { LINK_VERIFICATION_CODE_DIGITS, linkVerificationCode } from '@parley/crypto';
import { rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { LinkCodeSchema } from './link-code.entity.js';
import { LINK_CODE_BYTES, parseSecret, pendingRequest, requireLiveCode } from './link-codes.js';
import { requireLiveSession } from './live-session.js';

export interface ApproveLinkInput {
  code: string;
  /** What the new device shows: the code of the identity key it stated to LinkDevice. */
  verificationCode: string;
}

const MISMATCH =
  "the verification code doesn't match the device waiting on this link code, so another device may have used it: " +
  'nothing was approved and the code is void; create a new one and check the code on the new device';

function parseVerificationCode(raw: string): string {
  const code = raw.replace(/\s/g, '');
  if (!code) throw rpcError.invalidArgument('verification_code is required: type the code the new device shows');
  if (!new RegExp(`^\\d{${LINK_VERIFICATION_CODE_DIGITS}}$`).test(code)) {
    throw rpcError.invalidArgument(`verification_code must be the ${LINK_VERIFICATION_CODE_DIGITS} digits the new device shows`);
  }
  return code;
}

/**
 * Approves the request a new device made with one of the account's link codes, if it is the device
 * whose verification code the user typed (read off its screen), and names it. A code that doesn't
 * match voids the link code: whoever redeemed it is not the device in the user's hands. Another
 * account's code is unknown here.
 */
export async function approveLink(deps: AuthDeps, caller: Caller, input: ApproveLinkInput): Promise<{ deviceName: string }> {
  const codeHash = parseSecret(input.code, 'code', LINK_CODE_BYTES);
  const verificationCode = parseVerificationCode(input.verificationCode);
  const now = new Date();
  const outcome = await deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    const code = await em.findOne(LinkCodeSchema, { codeHash, user: caller.userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    requireLiveCode(code, now);
    const request = pendingRequest(code);
    if (!request) throw rpcError.failedPrecondition('no device has asked to link with this code yet: enter it on the new device first');
    if (linkVerificationCode(request.identityKey) !== verificationCode) {
      // Committed before the refusal: the code must not stay open for a second try.
      code.expiresAt = now;
      return { mismatch: true as const };
    }
    code.approvedAt ??= now;
    return { deviceName: request.name };
  });
  if ('mismatch' in outcome) throw rpcError.failedPrecondition(MISMATCH);
  return outcome;
}
