import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { freePort } from '@parley/stack';
import { TusClient, eventually, startTestStack, type HttpAnswer, type TestStack } from '@parley/testing';
import { signUp } from './support/accounts.js';

// Two media processes on one database and one file directory, each behind an edge of its own, as
// two replicas behind a Service: requests for one upload may reach either.
const MIB = 1024 * 1024;
let stack: TestStack;
let edgeB: string;

// Processes starting on a box loaded by others' work have taken over a minute to answer SERVING.
beforeAll(async () => {
  stack = await startTestStack({ services: ['auth', 'media', 'edge'], env: { auth: { BCRYPT_COST: '4' } } });
  const mediaHttpPortB = await freePort();
  await stack.startReplica('media', { MEDIA_HTTP_PORT: String(mediaHttpPortB) });
  edgeB = (await stack.startReplica('edge', { MEDIA_HTTP_URL: `http://127.0.0.1:${mediaHttpPortB}` })).url;
});

afterAll(() => stack?.cleanup());

const uploadLocks = async (granted: boolean) =>
  (await stack.query<{ n: number }>('media', `select count(*)::int as n from pg_locks where locktype = 'advisory' and granted = $1 and database = (select oid from pg_database where datname = current_database())`, [granted]))[0]!.n;

/** A PATCH whose body goes in two parts: the second only when the test says, so it holds the upload meanwhile. */
function heldPatch(baseUrl: string, location: string, accessToken: string, body: Buffer, firstPart: number) {
  const req = request(new URL(location, baseUrl), {
    method: 'PATCH',
    agent: false,
    headers: {
      Authorization: `Bearer ${accessToken}`,
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(body.length),
    },
  });
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), text: Buffer.concat(chunks).toString() }));
    });
  });
  req.write(body.subarray(0, firstPart));
  return { answer, finish: () => req.end(body.subarray(firstPart)) };
}

it('two PATCHes at one offset through two replicas never write at once: the second waits, then hears the new offset, and the bytes stay whole', async () => {
  const alice = await signUp(stack, 'alice');
  const token = alice.tokens.accessToken;
  const [viaA, viaB] = [new TusClient(stack.edgeUrl, token), new TusClient(edgeB, token)];
  const bytes = randomBytes(4 * MIB);
  const { location, id } = await viaA.start(bytes);

  // Replica A takes the upload's lock and holds it while half of its PATCH has arrived.
  const first = heldPatch(stack.edgeUrl, location, token, bytes.subarray(0, 2 * MIB), MIB);
  await eventually(() => uploadLocks(true), (n) => n === 1);
  // Replica B's PATCH of other bytes at the same offset waits for that lock in PostgreSQL.
  const rival = viaB.patch(location, 0, randomBytes(2 * MIB));
  await eventually(() => uploadLocks(false), (n) => n === 1);

  first.finish();
  expect((await first.answer).status).toBe(204);
  const refused = await rival;
  expect(refused.status).toBe(409);
  expect(await uploadLocks(true)).toBe(0);

  // Resumed through B, where A left off: the digest verifies and the bytes are A's.
  expect(await viaB.offset(location)).toBe(2 * MIB);
  expect((await viaB.send(location, bytes, 2 * MIB)).status).toBe(204);
  expect((await viaA.download(id)).body.equals(bytes)).toBe(true);
});
