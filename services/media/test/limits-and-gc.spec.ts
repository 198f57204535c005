import { randomBytes, randomUUID } from 'node:crypto';
import { ManualClock, TusClient, sha256Hex } from '@parley/testing';
import { collectGarbage } from '../src/domain/collect-garbage.js';
import { sweepOrphanBlobs } from '../src/domain/sweep-orphan-blobs.js';
import { providers, startMediaHarness } from './support/media-harness.js';

type Harness = Awaited<ReturnType<typeof startMediaHarness>>;

describe.each(providers)('media on the $name provider', (provider) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startMediaHarness(provider, { quotaBytesPerUser: 100_000, maxPendingUploadsPerUser: 3, creationsPerMinute: 5 });
  });

  afterAll(() => harness?.stop());

  const client = (userId = randomUUID()) => ({ userId, tus: new TusClient(harness.url, userId) });
  const rowsOf = async (userId: string) =>
    (await harness.query<{ n: number }>(`select count(*)::int as n from attachment where owner_id = $1`, [userId]))[0]!.n;

  it('refuses an upload past the quota, counting uploads in progress at their declared length, and stores nothing', async () => {
    const { userId, tus } = client();
    await tus.upload(randomBytes(60_000));
    await tus.start(randomBytes(30_000));
    const over = await tus.create(20_000, { sha256: sha256Hex(randomBytes(1)) });
    expect(over.status).toBe(403);
    expect(over.text).toMatch(/storage quota exceeded: you hold 90000 of 100000 bytes and this upload declares 20000/);
    expect(await rowsOf(userId)).toBe(2);
  });

  it('refuses a fourth upload in progress, until one finishes', async () => {
    const { userId, tus } = client();
    const bytes = randomBytes(100);
    const started = [await tus.start(bytes), await tus.start(bytes), await tus.start(bytes)];
    const fourth = await tus.create(bytes.length, { sha256: sha256Hex(bytes) });
    expect(fourth.status).toBe(429);
    expect(fourth.text).toMatch(/3 uploads in progress, the most allowed/);
    // The oldest expires after the pending TTL (an hour here), and the next GC (a minute) frees its place.
    expect(fourth.headers['retry-after']).toBe('3660');
    await tus.send(started[0]!.location, bytes);
    expect((await tus.create(bytes.length, { sha256: sha256Hex(bytes) })).status).toBe(201);
    expect(await rowsOf(userId)).toBe(4);
  });

  it('limits upload creations per minute, and allows more once the bucket refilled', async () => {
    const { tus } = client();
    const bytes = randomBytes(10);
    for (let i = 0; i < 5; i++) await tus.upload(bytes);
    const limited = await tus.create(bytes.length, { sha256: sha256Hex(bytes) });
    expect(limited.status).toBe(429);
    expect(limited.text).toMatch(/too many uploads started; retry in 12 s/);
    expect(limited.headers['retry-after']).toBe('12');
    harness.clock.advance(12_000);
    expect((await tus.create(bytes.length, { sha256: sha256Hex(bytes) })).status).toBe(201);
  });

  it('GC removes unfinished uploads after their TTL and never-granted attachments after theirs, blobs included', async () => {
    const { userId, tus } = client();
    const bytes = randomBytes(5000);
    const pending = await tus.start(bytes);
    expect((await tus.patch(pending.location, 0, bytes.subarray(0, 1000))).status).toBe(204);
    const ungranted = await tus.upload(bytes);
    const granted = await tus.upload(bytes);
    const conversationId = randomUUID();
    await harness.query(`insert into conversation_members (conversation_id, member_ids, changed_at) values ($1, $2, now())`, [conversationId, [userId]]);
    await harness.query(`insert into attachment_grant (attachment_id, conversation_id, created_at) values ($1, $2, now())`, [granted, conversationId]);
    expect(await harness.exists(ungranted)).toBe(true);

    harness.clock.advance(3_600_000 + 1);
    await collectGarbage(harness.deps);
    const left = await harness.query<{ id: string }>(`select id from attachment where owner_id = $1 order by id`, [userId]);
    expect(left.map((r) => r.id).sort()).toEqual([ungranted, granted].sort());
    // The expired upload is unknown now: resuming it is refused, and nothing was left of it.
    expect((await tus.patch(pending.location, 1000, bytes.subarray(1000))).status).toBe(404);
    expect(await harness.exists(pending.id)).toBe(false);

    harness.clock.advance(3_600_000);
    await collectGarbage(harness.deps);
    expect(await harness.exists(ungranted)).toBe(false);
    expect((await tus.download(ungranted)).status).toBe(404);
    expect(await harness.exists(granted)).toBe(true);
    expect((await tus.download(granted)).body.equals(bytes)).toBe(true);
  });

  it('sweeps what the store holds under ids no row names, once past the grace period, finished or not', async () => {
    const { tus } = client();
    const bytes = randomBytes(3000);
    const [kept, orphan] = [await tus.upload(bytes), await tus.upload(bytes)];
    const halfway = await tus.start(bytes);
    expect((await tus.patch(halfway.location, 0, bytes.subarray(0, 1000))).status).toBe(204);
    // A crash between deleting the rows and their blobs leaves blobs no row offers.
    await harness.query(`delete from attachment where id = any($1)`, [[orphan, halfway.id]]);
    // The store's times are the machine's: the sweep gets a clock that starts now.
    const clock = new ManualClock(Date.now());
    const sweep = () => sweepOrphanBlobs({ ...harness.deps, clock });
    expect(await sweep()).toBe(0);
    expect(await harness.exists(orphan)).toBe(true);
    clock.advance(harness.deps.settings.orphanGraceMs + 2000);
    expect(await sweep()).toBe(2);
    expect(await harness.exists(orphan)).toBe(false);
    expect(await harness.exists(halfway.id)).toBe(false);
    expect((await tus.download(kept)).body.equals(bytes)).toBe(true);
    expect(await sweep()).toBe(0);
  });

  it('never deduplicates: two equal uploads are two attachments and two blobs', async () => {
    const { tus } = client();
    const bytes = randomBytes(2000);
    const [first, second] = [await tus.upload(bytes), await tus.upload(bytes)];
    expect(first).not.toBe(second);
    expect(await harness.exists(first)).toBe(true);
    expect(await harness.exists(second)).toBe(true);
  });
});
