import { LockMode } from '@mikro-orm/core';
import { rpcError } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { LinkCodeSchema } from './link-code.entity.js';
import { APPROVAL_SECRET_BYTES, finishLink, parseSecret, pendingRequest, redeemLinkCode, requireLiveCode, type Linked } from './link-codes.js';

/** Links the device that LinkDevice put on hold, with the identity key it stated, once a device of the account has approved that key. */
export async function completeLink(deps: AuthDeps, input: { approvalSecret: string }): Promise<Linked> {
  const secretHash = parseSecret(input.approvalSecret, 'approval_secret', APPROVAL_SECRET_BYTES);
  const now = new Date();
  const redeemed = await deps.orm.em.fork().transactional(async (em) => {
    const code = await em.findOne(LinkCodeSchema, { approvalSecretHash: secretHash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!code) throw rpcError.notFound('unknown approval secret: ask to link again with LinkDevice');
    requireLiveCode(code, now);
    const request = pendingRequest(code);
    if (!request || !code.approvedAt) {
      throw rpcError.failedPrecondition('waiting for approval: a linked device must approve this request (ApproveLink); then call CompleteLink again');
    }
    return redeemLinkCode(em, deps, code, request, now, 'approval');
  });
  return finishLink(deps, redeemed);
}
