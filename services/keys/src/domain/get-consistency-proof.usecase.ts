import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, type Caller } from '@parley/platform';
import type { KeysDeps } from '../deps.js';
import { IdentityLog } from './identity-log.js';

/**
 * RFC 6962 proof that the log at `toSize` extends the log at `fromSize`; 0 < from (the contract's) ≤ to ≤ current size.
 * It reads the whole log, so calls are limited per caller.
 */
export async function getConsistencyProof(deps: KeysDeps, caller: Caller, input: { fromSize: bigint; toSize: bigint }): Promise<Uint8Array[]> {
  await deps.rateLimits.consistencyProofsPerCaller.enforce(caller.userId, 'too many consistency proof requests');
  const snapshot = await deps.identityLog.snapshot(deps.orm.em.fork() as EntityManager);
  const size = BigInt(snapshot.leafHashes.length);
  const { fromSize, toSize } = input;
  if (fromSize > toSize) throw rpcError.invalidArgument(`from_size (${fromSize}) must not exceed to_size (${toSize})`);
  if (toSize > size) throw rpcError.invalidArgument(`to_size (${toSize}) exceeds the log's size (${size})`);
  return IdentityLog.consistencyProof(snapshot, Number(fromSize), Number(toSize));
}
