import type { EntityManager } from '@mikro-orm/postgresql';
import { Batcher, SQL_STATE, events, rpcError, sqlState, type Caller, type RateLimiter, type SanctionStandings, type SqlPool } from '@parley/platform';
import type { KeysDeps } from '../deps.js';
import type { IdentityLog, LogSnapshot } from './identity-log.js';
import { preKeyCounts } from './prekey-counts.js';

export interface ClaimTarget {
  userId: string;
  /** 0 for every device of the user that has uploaded keys. */
  deviceId: number;
}

interface Key {
  keyId: number;
  publicKey: Buffer;
}
interface SignedKey extends Key {
  signature: Buffer;
}

export interface ClaimedBundle {
  deviceId: number;
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: SignedKey;
  pqPreKey: SignedKey;
  pqPreKeyIsLastResort: boolean;
  preKey?: Key;
  logIndex: number;
}

export interface ClaimResult {
  bundles: ClaimedBundle[];
  logSnapshot: LogSnapshot;
}

export const LIMITED_MESSAGE = 'too many key requests for this user';
export const REQUESTER_LIMITED_MESSAGE = 'too many key requests';

export async function getPreKeyBundles(deps: Pick<KeysDeps, 'preKeyClaims'>, caller: Caller, target: ClaimTarget): Promise<ClaimResult> {
  return deps.preKeyClaims.claim(caller.userId, target);
}

interface Claim {
  requester: string;
  target: ClaimTarget;
}

/** One row of claim_pre_key_bundles (see its migration): an outcome of a claim, or the log's new leaves. */
interface ClaimRow {
  claim: number | null;
  outcome: 'limited' | 'blocked' | 'none' | 'claimed' | 'log';
  device_id: number;
  registration_id: number;
  identity_key: Buffer;
  signed_pre_key_id: string;
  signed_pre_key: Buffer;
  signed_pre_key_signature: Buffer;
  pre_key_id: string | null;
  pre_key: Buffer | null;
  pq_pre_key_id: string;
  pq_pre_key: Buffer;
  pq_pre_key_signature: Buffer;
  pq_pre_key_is_last_resort: boolean;
  log_index: string;
  runs_low: boolean;
  low_notified: boolean;
  log_leaves: Buffer[] | null;
}

export interface PreKeyClaimsDeps {
  sql: SqlPool;
  orm: KeysDeps['orm'];
  outbox: KeysDeps['outbox'];
  identityLog: IdentityLog;
  /** Per (requester, target user): taken in the claim's own statement. */
  limiter: RateLimiter;
  /** Per requester across every target: taken in the same statement. */
  requesterLimiter: RateLimiter;
  lowWaterMark: number;
  /** A banned user's bundles are not served. */
  sanctions: SanctionStandings;
}

/** Most claims one statement takes. */
const MAX_BATCH = 64;
/**
 * One statement in flight per process: claims that arrive meanwhile make the next batch bigger. A
 * second one would start with the next claim alone and then wait for the device rows the first holds.
 */
const CONCURRENCY = 1;
/** A batch that lost a deadlock (with an account deletion's sweep of rate-limit buckets) runs again. */
const DEADLOCK_RETRIES = 3;

/**
 * Claims a bundle per device, in batches: claims that arrive while a statement runs go together in
 * the next one, which takes their rate-limit tokens, checks blocks, locks each device row and takes
 * the lowest one-time keys of both kinds for all of that device's claims at once, and reads the log's
 * new leaves, in one round trip and one transaction (claim_pre_key_bundles). Each one-time key is
 * deleted by the claim that gets it, so no key is handed out twice, and a device's claims take turns
 * on its row, so EC and Kyber keys run out together. Under no load a claim runs alone, at once.
 */
export class PreKeyClaims {
  private readonly batcher = new Batcher<Claim, ClaimResult>((claims) => this.run(claims), { maxBatch: MAX_BATCH, concurrency: CONCURRENCY });

  constructor(private readonly deps: PreKeyClaimsDeps) {}

  /**
   * A banned target answers as a user without keys, as a block does: nobody starts a session with
   * them, and the requester learns nothing of the sanction (what and why is for its user alone).
   */
  async claim(requester: string, target: ClaimTarget): Promise<ClaimResult> {
    if (await this.deps.sanctions.banned(target.userId)) throw noKeys(target);
    return this.batcher.submit({ requester, target });
  }

  private async run(claims: Claim[]): Promise<(ClaimResult | Error)[]> {
    const { rows, logFrom } = await this.execute(claims);
    const logSnapshot = this.deps.identityLog.snapshotWith(logFrom, rows.find((r) => r.outcome === 'log')?.log_leaves ?? []);
    const outcomes = claims.map(() => [] as ClaimRow[]);
    for (const row of rows) if (row.claim !== null) outcomes[row.claim]!.push(row);

    // A subject or requester with several claims here paid for all of them at once, all or nothing:
    // refused, they are tried again one by one, as claims one after another would have been.
    const perSubject = countBy(claims, subjectOf);
    const perRequester = countBy(claims, (c) => c.requester);
    const results: (ClaimResult | Error)[] = [];
    for (const [i, claim] of claims.entries()) {
      const [first] = outcomes[i]!;
      const shared = perSubject.get(subjectOf(claim))! > 1 || perRequester.get(claim.requester)! > 1;
      if (first?.outcome === 'limited' && claims.length > 1 && shared) results.push(await this.run([claim]).then(([r]) => r!));
      else results.push(await this.answer(claim, outcomes[i]!, logSnapshot));
    }
    await this.announceLowDevices(claims, rows);
    await this.deps.limiter.pruneNowAndThen();
    return results;
  }

  /** The batch's statement: claims sorted by target device, so every batch locks device rows in one order. */
  private async execute(claims: Claim[]): Promise<{ rows: ClaimRow[]; logFrom: number }> {
    const order = claims.map((_, i) => i).sort((a, b) => compareTargets(claims[a]!.target, claims[b]!.target));
    const sorted = order.map((i) => claims[i]!);
    const perSubject = countBy(claims, subjectOf);
    const perRequester = countBy(claims, (c) => c.requester);
    const take = this.deps.limiter.takeStatement([...perSubject.keys()], [...perSubject.values()]);
    const takeRequester = this.deps.requesterLimiter.takeStatement([...perRequester.keys()], [...perRequester.values()], 13);
    const logFrom = this.deps.identityLog.knownSize;
    // A claim is allowed when both its (requester, target) bucket and its requester's bucket paid.
    const statement = {
      name: 'keys-claim-pre-key-bundles',
      text: `with take as (${take.text}), take_requester as (${takeRequester.text})
             select c.* from claim_pre_key_bundles($7::uuid[], $8::uuid[], $9::smallint[],
               array(select s.subject = any(array(select subject from take)) and s.requester::text = any(array(select subject from take_requester))
                     from unnest($10::text[], $7::uuid[]) with ordinality s(subject, requester, n) order by s.n),
               $11::int, $12::bigint) c`,
    };
    const values = [
      ...take.values,
      sorted.map((c) => c.requester),
      sorted.map((c) => c.target.userId),
      sorted.map((c) => c.target.deviceId),
      sorted.map(subjectOf),
      this.deps.lowWaterMark,
      logFrom,
      ...takeRequester.values,
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.deps.sql.query<ClaimRow>(statement, values);
        // Back from sorted positions (1-based) to the batch's own.
        for (const row of rows) if (row.claim !== null) row.claim = order[row.claim - 1]!;
        return { rows, logFrom };
      } catch (err) {
        if (sqlState(err) !== SQL_STATE.deadlockDetected || attempt > DEADLOCK_RETRIES) throw err;
      }
    }
  }

  private async answer(claim: Claim, rows: ClaimRow[], logSnapshot: LogSnapshot): Promise<ClaimResult | Error> {
    const outcome = rows[0]?.outcome;
    if (outcome === 'limited') {
      // Either bucket may have refused: the later of the two is when a claim can pass.
      const forTarget = await this.deps.limiter.retryAfterSeconds(subjectOf(claim));
      const forRequester = await this.deps.requesterLimiter.retryAfterSeconds(claim.requester);
      const what = forRequester > forTarget ? REQUESTER_LIMITED_MESSAGE : LIMITED_MESSAGE;
      return rpcError.resourceExhausted(`${what}; retry in ${Math.max(forTarget, forRequester)} s`);
    }
    // A block, either way, answers as a user without keys: the requester can't tell it from one.
    if (outcome !== 'claimed') return noKeys(claim.target);
    return { bundles: rows.map(toBundle), logSnapshot };
  }

  /**
   * keys.pre_keys.ran_low for each device a claim left below the mark, unless it was told already.
   * Its own transaction: it locks the device row, counts again and flags it, so an upload in
   * between (which lifts the counts and clears the flag) is seen, and one crossing is one event.
   * If this process dies first, the flag is still clear and the device's next claim announces it.
   */
  private async announceLowDevices(claims: Claim[], rows: ClaimRow[]): Promise<void> {
    const low = new Map<string, { userId: string; deviceId: number }>();
    for (const row of rows) {
      if (row.outcome !== 'claimed' || !row.runs_low || row.low_notified) continue;
      const userId = claims[row.claim!]!.target.userId;
      low.set(`${userId}/${row.device_id}`, { userId, deviceId: row.device_id });
    }
    const { orm, outbox, lowWaterMark } = this.deps;
    for (const { userId, deviceId } of low.values()) {
      await (orm.em.fork() as EntityManager).transactional(async (em) => {
        const [device] = (await em.execute('select low_notified from device_keys where user_id = ? and device_id = ? for update', [userId, deviceId])) as {
          low_notified: boolean;
        }[];
        if (!device || device.low_notified) return;
        const counts = await preKeyCounts(em, userId, deviceId);
        if (counts.preKeys >= lowWaterMark && counts.pqPreKeys >= lowWaterMark) return;
        await em.execute('update device_keys set low_notified = true where user_id = ? and device_id = ?', [userId, deviceId]);
        outbox.add(em, events.preKeysLow, { userId, deviceId, ...counts });
      });
    }
  }
}

function noKeys({ userId, deviceId }: ClaimTarget): Error {
  return rpcError.notFound(deviceId ? `user ${userId} has no device ${deviceId} with keys` : `user ${userId} has no devices with keys`);
}

const subjectOf = (c: Claim) => `${c.requester}:${c.target.userId}`;

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** PostgreSQL's order of (user id, device id): lowercase UUIDs compare as their bytes do. */
function compareTargets(a: ClaimTarget, b: ClaimTarget): number {
  return a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.deviceId - b.deviceId;
}

function toBundle(r: ClaimRow): ClaimedBundle {
  return {
    deviceId: r.device_id,
    registrationId: r.registration_id,
    identityKey: r.identity_key,
    signedPreKey: { keyId: Number(r.signed_pre_key_id), publicKey: r.signed_pre_key, signature: r.signed_pre_key_signature },
    pqPreKey: { keyId: Number(r.pq_pre_key_id), publicKey: r.pq_pre_key, signature: r.pq_pre_key_signature },
    pqPreKeyIsLastResort: r.pq_pre_key_is_last_resort,
    preKey: r.pre_key_id === null ? undefined : { keyId: Number(r.pre_key_id), publicKey: r.pre_key! },
    logIndex: Number(r.log_index),
  };
}
