import { randomBytes } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { PASSWORD, connectErrorOf, eventually, startTestStack, type TestStack } from '@parley/testing';
import { signUp, type EdgeDevice } from './accounts.js';
import { createGroup, openDirect } from './messages.js';
import { TusClient, sha256Hex } from '@parley/testing';

const MIB = 1024 * 1024;
const APP_ORIGIN = 'https://app.example';

/** Where a provider keeps blobs, as a test looks at them: whether anything of one is there (the blob, its upload state, a part). */
export interface BlobProbe {
  exists(id: string): Promise<boolean>;
}

export interface MediaProvider {
  name: string;
  /** Starts what the provider needs; returns media's env and a probe of its blobs. */
  setUp(stack: () => TestStack): Promise<{ env: Record<string, string>; blobs: BlobProbe }>;
  tearDown(): Promise<void>;
}

/**
 * Limits small enough to reach in a test. GC and the orphan sweep run every second; the TTLs keep
 * their defaults (a day), and a test that wants a row expired moves its times back a day instead.
 */
const MEDIA_LIMITS = {
  MEDIA_MAX_ATTACHMENT_BYTES: String(60 * MIB),
  MEDIA_QUOTA_BYTES_PER_USER: String(100 * MIB),
  MEDIA_MAX_PENDING_UPLOADS_PER_USER: '3',
  MEDIA_UPLOAD_CREATIONS_PER_MINUTE: '10',
  MEDIA_GC_INTERVAL_SECONDS: '1',
  MEDIA_ORPHAN_GRACE_SECONDS: '1',
  MEDIA_ORPHAN_SWEEP_INTERVAL_SECONDS: '1',
};
const DAY_SECONDS = 86_400;
const tus = (stack: TestStack, device: EdgeDevice) => new TusClient(stack.edgeUrl, device.tokens.accessToken);

/** Grants once media has learnt the conversation's members from messaging's events. */
async function grantWhenKnown(owner: EdgeDevice, attachmentId: string, conversationId: string): Promise<void> {
  const res = await eventually(
    () => owner.media.grantAttachment({ attachmentId, conversationId }).catch((err) => ConnectError.from(err)),
    (res) => !(res instanceof ConnectError && res.code === Code.NotFound),
  );
  if (res instanceof ConnectError) throw res;
}

/**
 * Media through the edge with every service running, on one storage provider: the same cases run
 * for each (media-file.spec.ts, media-s3.spec.ts).
 */
export function mediaSuite(provider: MediaProvider): void {
  let stack: TestStack;
  let blobs: BlobProbe;

  beforeAll(async () => {
    const setUp = await provider.setUp(() => stack);
    blobs = setUp.blobs;
    stack = await startTestStack({ env: { media: { ...MEDIA_LIMITS, ...setUp.env }, edge: { CORS_ALLOWED_ORIGINS: APP_ORIGIN } } });
  });

  afterAll(async () => {
    await stack?.cleanup();
    await provider.tearDown();
  });

  it(`${provider.name}: a 50 MiB upload in chunks, cut halfway and resumed, downloads identical to a granted member, whole and by ranges`, async () => {
    const [alice, bob] = [await signUp(stack, 'alice'), await signUp(stack, 'bob')];
    const conversation = await openDirect(alice, bob);
    const bytes = randomBytes(50 * MIB);
    const uploader = tus(stack, alice);
    const { location, id } = await uploader.start(bytes, { 'content-type': 'video/mp4', filename: 'holiday.mp4' });
    const chunk = 8 * MIB;
    expect((await uploader.send(location, bytes.subarray(0, 3 * chunk), 0, chunk)).status).toBe(204);
    // The fourth chunk's connection drops halfway; the server keeps what arrived.
    expect((await uploader.patch(location, 3 * chunk, bytes.subarray(3 * chunk, 4 * chunk), chunk / 2)).status).toBe(0);
    const resumed = await eventually(
      async () => {
        const offset = await uploader.offset(location);
        return { offset, answer: await uploader.send(location, bytes, offset, chunk) };
      },
      // A resume that raced the end of the dropped request learns the new offset and goes again.
      ({ answer }) => answer.status !== 409,
    );
    expect(resumed.offset).toBeGreaterThanOrEqual(3 * chunk);
    expect(resumed.offset).toBeLessThanOrEqual(3 * chunk + chunk / 2);
    expect(resumed.answer.status).toBe(204);
    // Only the digest and the hint are kept: the file name the client sent is nowhere.
    expect(await stack.query('media', `select 1 from attachment where content_type like '%holiday%' or sha256 like '%holiday%'`)).toEqual([]);
    expect((await tus(stack, alice).head(location)).headers['upload-metadata']).not.toContain(Buffer.from('holiday.mp4').toString('base64'));

    const { attachment } = await alice.media.getAttachment({ attachmentId: id });
    expect(attachment).toMatchObject({ id, size: BigInt(bytes.length), sha256: sha256Hex(bytes), contentType: 'video/mp4', completed: true, mine: true });
    await grantWhenKnown(alice, id, conversation.id);

    const whole = await tus(stack, bob).download(id);
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.body.equals(bytes)).toBe(true);
    const head = await tus(stack, bob).download(id, 'bytes=0-1048575');
    expect(head.status).toBe(206);
    expect(head.headers['content-range']).toBe(`bytes 0-1048575/${bytes.length}`);
    expect(head.body.equals(bytes.subarray(0, MIB))).toBe(true);
    const middle = await tus(stack, bob).download(id, 'bytes=26214400-27262975');
    expect(middle.body.equals(bytes.subarray(25 * MIB, 26 * MIB))).toBe(true);
    const tail = await tus(stack, bob).download(id, 'bytes=-1000');
    expect(tail.body.equals(bytes.subarray(bytes.length - 1000))).toBe(true);
    const beyond = await tus(stack, bob).download(id, `bytes=${bytes.length}-`);
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${bytes.length}`);
    expect((await bob.media.getAttachment({ attachmentId: id })).attachment?.mine).toBe(false);
  });

  it(`${provider.name}: a member who leaves or is removed loses access; a non-member never had it and hears "not found"`, async () => {
    const [alice, bob, carol, dave] = [await signUp(stack, 'alice'), await signUp(stack, 'bob'), await signUp(stack, 'carol'), await signUp(stack, 'dave')];
    const group = await createGroup(alice, [bob, carol]);
    const bytes = randomBytes(4096);
    const id = await tus(stack, alice).upload(bytes);
    await grantWhenKnown(alice, id, group.id);
    expect((await tus(stack, bob).download(id)).body.equals(bytes)).toBe(true);
    expect((await tus(stack, carol).download(id)).status).toBe(200);

    const stranger = await tus(stack, dave).download(id);
    const unknown = await tus(stack, dave).download('0'.repeat(32));
    expect(stranger.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(stranger.text.replace(id, 'ID')).toBe(unknown.text.replace('0'.repeat(32), 'ID'));
    expect((await connectErrorOf(dave.media.getAttachment({ attachmentId: id }))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(dave.media.grantAttachment({ attachmentId: id, conversationId: group.id }))).code).toBe(Code.NotFound);
    expect((await connectErrorOf(bob.media.deleteAttachment({ attachmentId: id }))).code).toBe(Code.NotFound);

    await bob.conversations.leaveGroup({ conversationId: group.id });
    await alice.conversations.removeMember({ conversationId: group.id, userId: carol.userId });
    await eventually(() => tus(stack, bob).download(id), (answer) => answer.status === 404);
    await eventually(() => tus(stack, carol).download(id), (answer) => answer.status === 404);
    expect((await tus(stack, alice).download(id)).status).toBe(200);
  });

  it(`${provider.name}: bad input gets a specific answer and leaves nothing behind`, async () => {
    const erin = await signUp(stack, 'erin');
    const client = tus(stack, erin);
    const bytes = randomBytes(10_000);
    const attachmentsOfErin = async () =>
      (await stack.query<{ n: number }>('media', `select count(*)::int as n from attachment where owner_id = $1`, [erin.userId]))[0]!.n;

    // A wrong digest: refused at completion, and the blob is deleted.
    const wrong = await client.create(bytes.length, { sha256: sha256Hex(randomBytes(8)) });
    expect(wrong.status).toBe(201);
    const wrongId = String(wrong.headers.location).split('/').pop()!;
    const mismatch = await client.send(String(wrong.headers.location), bytes);
    expect(mismatch.status).toBe(460);
    expect(mismatch.text).toMatch(/SHA-256 .* not the declared .*: the upload was deleted/);
    expect(await blobs.exists(wrongId)).toBe(false);
    expect((await client.download(wrongId)).status).toBe(404);

    // A missing or malformed digest, a length over the limit, no length at all.
    expect((await client.create(bytes.length, {})).text).toMatch(/Upload-Metadata must carry sha256/);
    expect((await client.create(bytes.length, { sha256: 'abc' })).status).toBe(400);
    const tooLong = await client.create(61 * MIB, { sha256: sha256Hex(bytes) });
    expect(tooLong.status).toBe(413);

    // A chunk past the declared length, or at a wrong offset: refused, the upload stays resumable.
    const { location, id } = await client.start(bytes);
    expect((await client.patch(location, 0, randomBytes(bytes.length + 1))).status).toBe(413);
    expect((await client.patch(location, 100, bytes.subarray(100, 200))).status).toBe(409);
    expect(await client.offset(location)).toBe(0);
    expect((await client.send(location, bytes)).status).toBe(204);
    expect((await client.download(id)).body.equals(bytes)).toBe(true);

    // Non-tus requests on the tus route.
    const noTus = await fetch(`${stack.edgeUrl}/media/v1/uploads`, { method: 'POST', headers: { Authorization: `Bearer ${erin.tokens.accessToken}`, 'Upload-Length': '10' } });
    expect(noTus.status).toBe(412);
    const get = await fetch(`${stack.edgeUrl}${location}`, { headers: { Authorization: `Bearer ${erin.tokens.accessToken}` } });
    expect(get.status).toBe(405);
    expect(await get.text()).toMatch(/not a tus method/);

    // Malformed ids are refused by the contract's rules, naming the field.
    const malformed = await connectErrorOf(erin.media.getAttachment({ attachmentId: 'not-an-id' }));
    expect([malformed.code, malformed.rawMessage]).toEqual([Code.InvalidArgument, expect.stringContaining('attachment_id')]);

    // An unknown upload, and someone else's.
    expect((await client.patch('/media/v1/uploads/' + 'f'.repeat(32), 0, bytes)).status).toBe(404);
    const frank = await signUp(stack, 'frank');
    const { location: franks } = await tus(stack, frank).start(bytes);
    expect((await client.patch(franks, 0, bytes)).status).toBe(404);

    // Only what completed is left: the one good upload (and Frank's, still pending, is his).
    expect(await attachmentsOfErin()).toBe(1);

    // Deleting removes the blob.
    await erin.media.deleteAttachment({ attachmentId: id });
    expect(await blobs.exists(id)).toBe(false);
    expect((await client.download(id)).status).toBe(404);
    expect(await attachmentsOfErin()).toBe(0);
  });

  it(`${provider.name}: each limit has its own answer through the edge, 429s with a Retry-After in seconds, and a refusal stores nothing`, async () => {
    const [kim, lee, max] = [await signUp(stack, 'kim'), await signUp(stack, 'lee'), await signUp(stack, 'max')];
    const digest = sha256Hex(randomBytes(8));
    const rowsOf = async (user: EdgeDevice) =>
      (await stack.query<{ n: number }>('media', `select count(*)::int as n from attachment where owner_id = $1`, [user.userId]))[0]!.n;

    // Size per attachment (60 MiB here).
    const tooBig = await tus(stack, kim).create(60 * MIB + 1, { sha256: digest });
    expect(tooBig.status).toBe(413);

    // Quota per user (100 MiB here): an upload in progress counts at its declared length.
    const first = await tus(stack, kim).create(55 * MIB, { sha256: digest });
    expect(first.status).toBe(201);
    const overQuota = await tus(stack, kim).create(50 * MIB, { sha256: digest });
    expect(overQuota.status).toBe(403);
    expect(overQuota.text).toMatch(`storage quota exceeded: you hold ${55 * MIB} of ${100 * MIB} bytes and this upload declares ${50 * MIB}`);
    expect(await rowsOf(kim)).toBe(1);
    await kim.media.deleteAttachment({ attachmentId: String(first.headers.location).split('/').pop()! });
    expect((await tus(stack, kim).create(50 * MIB, { sha256: digest })).status).toBe(201);

    // Uploads in progress per user (3 here): Retry-After is when the oldest expires and GC frees its place.
    const bytes = randomBytes(100);
    const started = [await tus(stack, lee).start(bytes), await tus(stack, lee).start(bytes), await tus(stack, lee).start(bytes)];
    const fourth = await tus(stack, lee).create(bytes.length, { sha256: sha256Hex(bytes) });
    expect(fourth.status).toBe(429);
    expect(fourth.text).toMatch(/3 uploads in progress, the most allowed: finish or delete one first/);
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(DAY_SECONDS - 600);
    expect(Number(fourth.headers['retry-after'])).toBeLessThanOrEqual(DAY_SECONDS + 1);
    expect(await rowsOf(lee)).toBe(3);
    expect((await tus(stack, lee).send(started[0]!.location, bytes)).status).toBe(204);
    expect((await tus(stack, lee).create(bytes.length, { sha256: sha256Hex(bytes) })).status).toBe(201);

    // Creations per minute (10 here): Retry-After says when the bucket has a token again, and it does.
    // (A busy machine may refill a token or two while the first ten go: the limit is met when it is met.)
    let limited = await tus(stack, max).create(bytes.length, { sha256: sha256Hex(bytes) });
    let allowed = 0;
    for (; limited.status === 201 && allowed < 30; allowed++) {
      expect((await tus(stack, max).send(String(limited.headers.location), bytes)).status).toBe(204);
      limited = await tus(stack, max).create(bytes.length, { sha256: sha256Hex(bytes) });
    }
    expect(allowed).toBeGreaterThanOrEqual(10);
    expect(limited.status).toBe(429);
    expect(limited.text).toMatch(/too many uploads started; retry in \d+ s/);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(await rowsOf(max)).toBe(allowed);
    await eventually(() => tus(stack, max).create(bytes.length, { sha256: sha256Hex(bytes) }), (answer) => answer.status === 201, 30_000);
  });

  it(`${provider.name}: GC removes an upload never finished and an attachment never granted past their TTLs, blobs included; a granted one stays`, async () => {
    const [nina, omar] = [await signUp(stack, 'nina'), await signUp(stack, 'omar')];
    const conversation = await openDirect(nina, omar);
    const bytes = randomBytes(5000);
    const client = tus(stack, nina);
    const pending = await client.start(bytes);
    expect((await client.patch(pending.location, 0, bytes.subarray(0, 1000))).status).toBe(204);
    const [ungranted, granted] = [await client.upload(bytes), await client.upload(bytes)];
    await grantWhenKnown(nina, granted, conversation.id);
    for (const id of [pending.id, ungranted, granted]) expect(await blobs.exists(id)).toBe(true);

    // These three rows start and complete two days earlier: past both TTLs (a day) at the next GC.
    await stack.query('media', `update attachment set created_at = created_at - interval '2 days', completed_at = completed_at - interval '2 days' where id = any($1)`, [
      [pending.id, ungranted, granted],
    ]);
    await eventually(
      async () => [await blobs.exists(pending.id), await blobs.exists(ungranted)],
      (left) => !left.includes(true),
    );
    // One collection took both, so the granted one, as old, was judged too and kept.
    expect(await stack.query('media', `select id from attachment where owner_id = $1`, [nina.userId])).toEqual([{ id: granted }]);
    expect((await client.patch(pending.location, 1000, bytes.subarray(1000))).status).toBe(404);
    expect((await client.download(ungranted)).status).toBe(404);
    expect(await blobs.exists(granted)).toBe(true);
    expect((await tus(stack, omar).download(granted)).body.equals(bytes)).toBe(true);
  });

  it(`${provider.name}: blobs no attachment row names (a crash between deleting the two) are swept after the grace period, finished or halfway`, async () => {
    const pia = await signUp(stack, 'pia');
    const client = tus(stack, pia);
    const bytes = randomBytes(3000);
    const [kept, orphan] = [await client.upload(bytes), await client.upload(bytes)];
    const halfway = await client.start(bytes);
    expect((await client.patch(halfway.location, 0, bytes.subarray(0, 1000))).status).toBe(204);
    await stack.query('media', `delete from attachment where id = any($1)`, [[orphan, halfway.id]]);
    await eventually(
      async () => [await blobs.exists(orphan), await blobs.exists(halfway.id)],
      (left) => !left.includes(true),
    );
    expect(await blobs.exists(kept)).toBe(true);
    expect((await client.download(kept)).body.equals(bytes)).toBe(true);
  });

  it(`${provider.name}: a browser at an allowed origin may use tus through the edge; another origin may not`, async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.edgeUrl}/media/v1/uploads/${'0'.repeat(32)}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'upload-offset, tus-resumable' },
      });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('Upload-Offset');
    expect((await preflight('https://evil.example')).status).toBe(403);

    const ivy = await signUp(stack, 'ivy');
    const created = await fetch(`${stack.edgeUrl}/media/v1/uploads`, {
      method: 'POST',
      headers: { origin: APP_ORIGIN, authorization: `Bearer ${ivy.tokens.accessToken}`, 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `sha256 ${Buffer.from(sha256Hex(Buffer.from('x'))).toString('base64')}` },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(created.headers.get('access-control-expose-headers')).toContain('Location');
  });

  it(`${provider.name}: no token or a bad one is refused at the edge, before media`, async () => {
    const noToken = await fetch(`${stack.edgeUrl}/media/v1/uploads`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' } });
    expect(noToken.status).toBe(401);
    const badToken = await fetch(`${stack.edgeUrl}/media/v1/attachments/${'0'.repeat(32)}`, { headers: { Authorization: 'Bearer not.a.token' } });
    expect(badToken.status).toBe(401);
  });

  it(`${provider.name}: account deletion removes the user's attachments, grants and blobs`, async () => {
    const [gina, hank] = [await signUp(stack, 'gina'), await signUp(stack, 'hank')];
    const conversation = await openDirect(gina, hank);
    const id = await tus(stack, gina).upload(randomBytes(2048));
    await grantWhenKnown(gina, id, conversation.id);
    expect(await blobs.exists(id)).toBe(true);
    await gina.auth.deleteAccount({ password: PASSWORD });
    await eventually(() => blobs.exists(id), (exists) => !exists);
    const rows = await stack.query('media', `select 1 from attachment where id = $1 union all select 1 from attachment_grant where attachment_id = $1`, [id]);
    expect(rows).toEqual([]);
    expect((await tus(stack, hank).download(id)).status).toBe(404);
  });
}
