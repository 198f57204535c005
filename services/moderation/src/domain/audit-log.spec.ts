import { auditHash, checkChain, type AuditEntryRow } from './audit-log.js';

function chain(n: number): AuditEntryRow[] {
  const rows: AuditEntryRow[] = [];
  let prev: Buffer = Buffer.alloc(32);
  for (let i = 1; i <= n; i++) {
    const content = { seq: String(i), at: new Date(1_765_152_000_000 + i), actor: 'user:a', action: 'case.assigned', subject_user_id: null, case_id: null, reason: `r${i}`, evidence: '' };
    const hash = auditHash(prev, content);
    rows.push({ ...content, prev_hash: prev, hash });
    prev = hash;
  }
  return rows;
}

describe('the audit chain', () => {
  it('checks an untouched chain as intact', () => {
    expect(checkChain(chain(5))).toMatchObject({ intact: true, entriesChecked: 5, firstBrokenSeq: 0n });
  });

  it.each<[string, (rows: AuditEntryRow[]) => void, bigint]>([
    ['a changed reason', (rows) => void (rows[2]!.reason = 'nothing happened'), 3n],
    ['a changed actor', (rows) => void (rows[1]!.actor = 'user:b'), 2n],
    ['a changed time', (rows) => void (rows[3]!.at = new Date(0)), 4n],
    ['a deleted entry', (rows) => void rows.splice(2, 1), 4n],
    ['a re-hashed entry (its successor no longer chains)', (rows) => {
      rows[1]!.reason = 'rewritten';
      rows[1]!.hash = auditHash(rows[1]!.prev_hash, rows[1]!);
    }, 3n],
  ])('finds %s', (_, tamper, firstBroken) => {
    const rows = chain(5);
    tamper(rows);
    expect(checkChain(rows)).toMatchObject({ intact: false, firstBrokenSeq: firstBroken });
  });
});
