import { LockMode } from '@mikro-orm/core';
import { rpcError, type Caller } from '@parley/platform';
import type { AuthDeps } from '../deps.js';
import { LinkCodeSchema } from './link-code.entity.js';
import { LINK_CODE_BYTES, parseSecret, pendingRequest, requireLiveCode } from './link-codes.js';
import { requireLiveSession } from './live-session.js';

/**
 * Approves the request a new device made with one of the account's link codes, and names that
 * device so the user can check it is theirs. Another account's code is unknown here.
 */
export async function approveLink(deps: AuthDeps, caller: Caller, input: { code: string }): Promise<{ deviceName: string }> {
  const codeHash = parseSecret(input.code, 'code', LINK_CODE_BYTES);
  const now = new Date();
  return deps.orm.em.fork().transactional(async (em) => {
    await requireLiveSession(em, caller);
    const code = await em.findOne(LinkCodeSchema, { codeHash, user: caller.userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    requireLiveCode(code, now);
    const request = pendingRequest(code);
    if (!request) throw rpcError.failedPrecondition('no device has asked to link with this code yet: enter it on the new device first');
    code.approvedAt ??= now;
    return { deviceName: request.name };
  });
}
