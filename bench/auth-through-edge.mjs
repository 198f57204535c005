// Measures Login and GetMe through the edge, each beside a baseline taken in the same run:
// Login against raw bcrypt comparisons at the same cost and concurrency (what bounds it), GetMe
// against a bare Node HTTP/1.1 round trip on loopback (what no RPC can beat).
// Run: npx nx run-many -t build && node bench/auth-through-edge.mjs
import http from 'node:http';
import { createHash } from 'node:crypto';
import bcrypt from 'bcrypt';
import { AuthService } from '@parley/proto';
import { edgeClient, startTestStack } from '@parley/testing';

const BCRYPT_COST = 12;
const LOGINS = 48;
const LOGIN_CONCURRENCY = 8;
const GETMES = 3000;
const GETME_CONCURRENCY = 16;

/** Runs `op` `total` times with `concurrency` in flight; returns ops/s and latency percentiles in ms. */
async function measure(total, concurrency, op) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await op();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { perSecond: total / seconds, p50: pct(50), p99: pct(99) };
}

async function bareHttpBaseline() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const result = await measure(GETMES, GETME_CONCURRENCY, () =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.text()),
  );
  server.close();
  return result;
}

function row(name, m, baseline) {
  const ratio = baseline ? `${(m.perSecond / baseline.perSecond).toFixed(2)}x` : '';
  console.log(
    `${name.padEnd(44)} ${m.perSecond.toFixed(1).padStart(9)}/s  p50 ${m.p50.toFixed(1).padStart(7)} ms  p99 ${m.p99.toFixed(1).padStart(7)} ms  ${ratio}`,
  );
}

const stack = await startTestStack({ services: ['auth', 'edge'], env: { auth: { BCRYPT_COST: String(BCRYPT_COST) } } });
try {
  const auth = edgeClient(AuthService, stack.edgeUrl);
  const password = 'correct horse battery';
  const { tokens } = await auth.register({ username: 'bench_user', password, registrationId: 1234 });

  const hash = await bcrypt.hash(createHash('sha256').update(password).digest('base64'), BCRYPT_COST);
  const rawBcrypt = await measure(LOGINS, LOGIN_CONCURRENCY, () => bcrypt.compare('not-it', hash));
  const logins = await measure(LOGINS, LOGIN_CONCURRENCY, () => auth.login({ username: 'bench_user', password }));

  const bare = await bareHttpBaseline();
  const me = edgeClient(AuthService, stack.edgeUrl, { accessToken: tokens.accessToken });
  const getMe = await measure(GETMES, GETME_CONCURRENCY, () => me.getMe({}));

  console.log(`\n2 cores; bcrypt cost ${BCRYPT_COST}; ${LOGIN_CONCURRENCY} logins and ${GETME_CONCURRENCY} GetMe calls in flight\n`);
  row(`baseline: raw bcrypt.compare, in process`, rawBcrypt);
  row(`Login through the edge (Connect JSON)`, logins, rawBcrypt);
  row(`baseline: bare Node HTTP/1.1 round trip`, bare);
  row(`GetMe through the edge (Connect JSON)`, getMe, bare);
} finally {
  await stack.cleanup();
}
