import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import { withDates } from './row-dates.js';

/** An entry as appended; seq, time and hashes are the log's. */
export interface AuditInput {
  /** "user:<id>", "rule:<name>" or "system". */
  actor: string;
  action: string;
  subjectUserId?: string | null;
  caseId?: string | null;
  reason: string;
  evidence: string;
}

export interface AuditEntryRow {
  seq: string;
  at: Date;
  actor: string;
  action: string;
  subject_user_id: string | null;
  case_id: string | null;
  reason: string;
  evidence: string;
  prev_hash: Buffer;
  hash: Buffer;
}

const GENESIS = Buffer.alloc(32);

/** SHA-256 over the previous hash and the entry's content (a JSON array, so fields can't run together). */
export function auditHash(prevHash: Uint8Array, e: Pick<AuditEntryRow, 'seq' | 'at' | 'actor' | 'action' | 'subject_user_id' | 'case_id' | 'reason' | 'evidence'>): Buffer {
  const content = JSON.stringify([String(e.seq), e.at.toISOString(), e.actor, e.action, e.subject_user_id ?? '', e.case_id ?? '', e.reason, e.evidence]);
  return createHash('sha256').update(prevHash).update(content, 'utf8').digest();
}

/**
 * Appends to the hash-chained audit log inside the caller's transaction. Appenders take turns (a
 * transaction-scoped advisory lock), so each entry chains to the one before it.
 */
export async function appendAudit(em: EntityManager, at: Date, input: AuditInput): Promise<void> {
  await sqlRows(em, `select pg_advisory_xact_lock(hashtext('audit_entry'))`);
  const [last] = await sqlRows<{ seq: string; hash: Buffer }>(em, `select seq, hash from audit_entry order by seq desc limit 1`);
  const entry = {
    seq: String(last ? BigInt(last.seq) + 1n : 1n),
    at,
    actor: input.actor,
    action: input.action,
    subject_user_id: input.subjectUserId ?? null,
    case_id: input.caseId ?? null,
    reason: input.reason,
    evidence: input.evidence,
  };
  const prevHash = last?.hash ?? GENESIS;
  await sqlRows(
    em,
    `insert into audit_entry (seq, at, actor, action, subject_user_id, case_id, reason, evidence, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [entry.seq, at, entry.actor, entry.action, entry.subject_user_id, entry.case_id, entry.reason, entry.evidence, prevHash, auditHash(prevHash, entry)],
  );
}

export interface ChainCheck {
  intact: boolean;
  entriesChecked: number;
  /** The first entry that doesn't hash to its stored hash or doesn't chain to its predecessor; 0n when intact. */
  firstBrokenSeq: bigint;
}

/** Checks entries in seq order: each one's hash over its content and its predecessor's hash, and seqs without gaps. */
export function checkChain(rows: readonly AuditEntryRow[], prev: { seq: bigint; hash: Uint8Array } = { seq: 0n, hash: GENESIS }): ChainCheck & { last: { seq: bigint; hash: Uint8Array } } {
  let last = prev;
  let checked = 0;
  for (const row of rows) {
    const seq = BigInt(row.seq);
    const ok = seq === last.seq + 1n && Buffer.compare(row.prev_hash, last.hash) === 0 && Buffer.compare(auditHash(last.hash, row), row.hash) === 0;
    if (!ok) return { intact: false, entriesChecked: checked, firstBrokenSeq: seq, last };
    checked++;
    last = { seq, hash: row.hash };
  }
  return { intact: true, entriesChecked: checked, firstBrokenSeq: 0n, last };
}

/** Verifies the whole log, a batch at a time. */
export async function verifyAuditChain(em: EntityManager, batch = 1000): Promise<ChainCheck> {
  let prev: { seq: bigint; hash: Uint8Array } | undefined;
  let total = 0;
  for (;;) {
    const rows = withDates(await sqlRows<AuditEntryRow>(em, `select * from audit_entry where seq > ? order by seq limit ?`, [String(prev?.seq ?? 0n), batch]), ['at']);
    const result = checkChain(rows, prev);
    total += result.entriesChecked;
    if (!result.intact) return { intact: false, entriesChecked: total, firstBrokenSeq: result.firstBrokenSeq };
    if (rows.length < batch) return { intact: true, entriesChecked: total, firstBrokenSeq: 0n };
    prev = result.last;
  }
}
