import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { SanctionKind } from '@parley/proto';
import { ManualClock, TestIsolation } from '@parley/testing';
import { openDatabase, type MikroORM } from '../src/db/database.js';
import { SqlPool } from '../src/db/sql-pool.js';
import type { SanctionStanding } from '../src/sanctions/sanction-standing.js';
import { SanctionStandingSchema } from '../src/sanctions/sanction-standing.entity.js';
import { SanctionStandings, recordSanctionStanding } from '../src/sanctions/sanction-standings.js';
import { testMigrations } from './support/test-migrations.js';

const isolation = new TestIsolation();
let orm: MikroORM;
let pool: SqlPool;
const T0 = Date.parse('2026-12-08T10:00:00Z');

beforeAll(async () => {
  orm = await openDatabase(
    { entities: [SanctionStandingSchema], migrations: testMigrations },
    { url: isolation.databaseUrl('sanctions'), createIfMissing: true, poolMax: 4 },
  );
  pool = new SqlPool(isolation.databaseUrl('sanctions'), 2);
});

afterAll(async () => {
  await pool?.close();
  await orm?.close(true);
  await isolation.cleanup([]);
});

function standing(userId: string, kind: SanctionKind, changedAtMs: number, expiresAt: Date | null = null): SanctionStanding {
  return { userId, kind, sanctionId: kind === SanctionKind.NONE ? '' : randomUUID(), expiresAt, reason: 'spam', changedAt: new Date(changedAtMs) };
}

const record = (s: SanctionStanding) => orm.em.fork().transactional((em) => recordSanctionStanding(em, s));
const kindOf = async (userId: string) =>
  (await pool.query<{ kind: string }>('select kind from sanction_standing where user_id = $1', [userId]))[0]?.kind;

describe('recordSanctionStanding', () => {
  it('keeps the latest change per user by changed_at: a late or repeated event changes nothing', async () => {
    const user = randomUUID();
    expect(await record(standing(user, SanctionKind.TEMPORARY_BAN, T0 + 2000, new Date(T0 + 3_600_000)))).toBe(true);
    expect(await record(standing(user, SanctionKind.NONE, T0 + 1000))).toBe(false);
    expect(await kindOf(user)).toBe('TEMPORARY_BAN');
    expect(await record(standing(user, SanctionKind.TEMPORARY_BAN, T0 + 2000))).toBe(false);
    expect(await record(standing(user, SanctionKind.NONE, T0 + 3000))).toBe(true);
    expect(await kindOf(user)).toBe('NONE');
  });
});

describe('SanctionStandings', () => {
  it('refuses while a temporary ban lasts and lets the user through once its expires_at passed, with no new event', async () => {
    const clock = new ManualClock(T0);
    const standings = new SanctionStandings(pool, clock);
    const user = randomUUID();
    await record(standing(user, SanctionKind.TEMPORARY_BAN, T0, new Date(T0 + 60_000)));
    const refused = await standings.refusal(user, 'login');
    expect([refused?.code, refused?.rawMessage]).toEqual([Code.PermissionDenied, 'your account is temporarily banned until 2026-12-08T10:01:00Z (reason: spam)']);
    expect(await standings.banned(user)).toBe(true);
    clock.advance(60_000);
    await expect(standings.require(user, 'login')).resolves.toBeUndefined();
    expect(await standings.banned(user)).toBe(false);
  });

  it('answers lookups that arrive together each with its own user standing', async () => {
    const standings = new SanctionStandings(pool, new ManualClock(T0));
    const restricted = randomUUID();
    const banned = randomUUID();
    const clean = randomUUID();
    await record(standing(restricted, SanctionKind.RESTRICT, T0, new Date(T0 + 60_000)));
    await record(standing(banned, SanctionKind.PERMANENT_BAN, T0));
    const [r, b, c] = await Promise.all([restricted, banned, clean].map((id) => standings.of(id)));
    expect([r?.kind, b?.kind, c]).toEqual([SanctionKind.RESTRICT, SanctionKind.PERMANENT_BAN, undefined]);
    expect((await standings.refusal(restricted, 'send'))?.code).toBe(Code.PermissionDenied);
    expect(await standings.refusal(restricted, 'login')).toBeUndefined();
    expect(await standings.banned(banned)).toBe(true);
  });
});
