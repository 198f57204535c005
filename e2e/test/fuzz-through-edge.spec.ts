import type { DescMethod } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { startTestStack, type TestStack } from '@parley/testing';
import { publicServices } from '../../services/edge/src/public-services.js';
import { signUp } from './support/accounts.js';
import { fuzzRequest, fuzzSeed, seededRng, type RawRequest } from './support/fuzz-requests.js';

/**
 * Malformed requests over every public RPC the edge serves (enumerated from its own list, so a new
 * RPC is fuzzed too), with and without a valid token: random and mutated binary protobuf, wrong
 * JSON types, huge numbers, NUL and control characters, bad envelopes, a compressed flag without
 * an encoding, encodings the body isn't in, gRPC-Web. None may answer 5xx, INTERNAL or UNKNOWN.
 * The seed is printed; FUZZ_SEED=<seed> replays a failure.
 */

const REQUESTS_PER_METHOD = 50;
const CONCURRENCY = 8;
const BAD_CODES = new Set(['internal', 'unknown', String(Code.Internal), String(Code.Unknown)]);

let stack: TestStack;
/** A signed-in device whose token the fuzz uses; a request may end its session (Logout, DeleteAccount), and then it is replaced. */
let token: Promise<string>;

const freshToken = () => signUp(stack, 'fuzz').then((device) => device.tokens.accessToken);

beforeAll(async () => {
  // bcrypt at its lowest cost: the fuzz may need a few accounts, and passwords are not under test.
  stack = await startTestStack({ env: { auth: { BCRYPT_COST: '4' } } });
  token = freshToken();
  await token;
});

afterAll(() => stack?.cleanup());

/** What was wrong with an answer: an HTTP 5xx, or INTERNAL or UNKNOWN in any of the protocols' places for a code. */
interface Verdict {
  bad?: string;
  code?: string;
}

/**
 * Reads as much of the answer as it takes to know its code: a unary body whole, a stream until
 * its first message (the request was taken: the stream is then dropped) or its end.
 */
async function answer(req: RawRequest, authorization?: string): Promise<Verdict> {
  const abort = new AbortController();
  const headers = { ...req.headers, ...(authorization ? { authorization } : {}) };
  const res = await fetch(`${stack.edgeUrl}${req.path}`, { method: 'POST', headers, body: req.body, signal: abort.signal });
  try {
    if (res.status >= 500) return { bad: `HTTP ${res.status}: ${await res.text()}` };
    const grpcStatus = res.headers.get('grpc-status');
    if (grpcStatus !== null) return verdict(grpcStatus, res.headers.get('grpc-message'));
    const type = res.headers.get('content-type') ?? '';
    if (!/connect\+|grpc-web/.test(type)) {
      const text = await res.text();
      return res.ok ? {} : verdict(jsonCode(text), text);
    }
    return await firstFrames(res, type.includes('grpc-web'));
  } finally {
    abort.abort();
  }
}

function verdict(code: string | undefined, message: string | null): Verdict {
  return code !== undefined && BAD_CODES.has(code) ? { bad: `${code}: ${message}`, code } : { code };
}

function jsonCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

/** A stream's first message means it was accepted; its end-stream message (Connect) or trailer frame (gRPC-Web) carries the code. */
async function firstFrames(res: Response, grpcWeb: boolean): Promise<Verdict> {
  let buffered = Buffer.alloc(0);
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length < 5 || buffered.length < 5 + buffered.readUInt32BE(1)) continue;
    const flags = buffered[0]!;
    const payload = buffered.subarray(5, 5 + buffered.readUInt32BE(1)).toString('utf8');
    if (grpcWeb && flags & 0x80) return verdict(/grpc-status:\s*(\d+)/i.exec(payload)?.[1], payload);
    if (!grpcWeb && flags & 0b10) {
      const error = (JSON.parse(payload) as { error?: { code?: string; message?: string } }).error;
      return verdict(error?.code, error?.message ?? null);
    }
    return {};
  }
  return {};
}

it('answers malformed requests to every public RPC without a 5xx, INTERNAL or UNKNOWN', async () => {
  const seed = fuzzSeed();
  console.log(`fuzz seed ${seed}: rerun with FUZZ_SEED=${seed}`);
  const rng = seededRng(seed);
  const methods: DescMethod[] = publicServices.flatMap((s) => s.methods);
  expect(methods.length).toBeGreaterThan(50);
  const calls = methods.flatMap((method) => Array.from({ length: REQUESTS_PER_METHOD }, () => ({ request: fuzzRequest(rng, method), withToken: rng() < 0.5 })));
  const failures: string[] = [];
  const codes = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const { request, withToken } = calls[next++]!;
      const used = withToken ? await token : undefined;
      const { bad, code } = await answer(request, used && `Bearer ${used}`);
      codes.set(code ?? 'ok', (codes.get(code ?? 'ok') ?? 0) + 1);
      if (bad) failures.push(`${request.path} (${request.kind}${withToken ? ', with a token' : ''}): ${bad.slice(0, 300)}`);
      // The call ended the token's session (Logout, DeleteAccount, …): later calls get a new one.
      if (used && code === 'unauthenticated' && (await token) === used) token = freshToken();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  console.log(`fuzz seed ${seed}: ${calls.length} requests over ${methods.length} RPCs; codes ${JSON.stringify(Object.fromEntries(codes))}`);
  expect(failures).toEqual([]);
  expect(codes.get('invalid_argument')).toBeGreaterThan(calls.length / 4);
});

it('counted no INTERNAL or UNKNOWN answer in any service', async () => {
  for (const service of ['edge', 'auth', 'keys', 'messaging'] as const) {
    const exposition = await stack.metrics(service);
    expect(exposition.split('\n').filter((line) => /^parley_rpc_server_handled_total\{.*code="(Internal|Unknown)"/.test(line))).toEqual([]);
  }
});
