// Measures Login and GetMe through the edge, each beside a baseline taken in the same run:
// - Login alone (one at a time, then 8 in flight) against raw bcrypt comparisons at the same cost
//   and concurrency (what bounds it);
// - GetMe against a bare Node HTTP/1.1 round trip on loopback (what no RPC can beat);
// - GetMe while 50 logins run at once, against GetMe alone: bcrypt runs on libuv's pool, so the
//   cheap call should wait for CPU, not for a blocked event loop. auth's event-loop delay is shown.
// Run: npm run build && npm exec -- node bench/auth-through-edge.mjs
import http from 'node:http';
import { createHash } from 'node:crypto';
import bcrypt from 'bcrypt';
import { AuthService, DeviceService } from '@parley/proto';
import { Accounts, PASSWORD, edgeClient, metricValue, startTestStack } from '@parley/testing';
import { header, measure, row, summarize } from './support/measure.mjs';

const BCRYPT_COST = 12;
const LOGINS = 48;
const LOGIN_CONCURRENCY = 8;
const GETMES = 3000;
const GETME_CONCURRENCY = 16;
const STORM_LOGINS = 50;
const PROBE_CONCURRENCY = 2;

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

/** auth's worst event-loop delay since the last scrape (prom-client resets it on each collect). */
async function authLoopDelayMs(stack) {
  return metricValue(await stack.metrics('auth'), 'nodejs_eventloop_lag_max_seconds') * 1000;
}

/** GetMe, PROBE_CONCURRENCY at a time, for as long as `load` runs. */
async function probeDuring(me, load) {
  const latencies = [];
  let done = false;
  const probes = Array.from({ length: PROBE_CONCURRENCY }, async () => {
    while (!done) {
      const t = performance.now();
      await me.getMe({});
      latencies.push(performance.now() - t);
    }
  });
  const started = performance.now();
  await load;
  done = true;
  await Promise.all(probes);
  return summarize(latencies, (performance.now() - started) / 1000);
}

const stack = await startTestStack({ services: ['auth', 'edge'], env: { auth: { BCRYPT_COST: String(BCRYPT_COST) } } });
try {
  const auth = edgeClient(AuthService, stack.edgeUrl);
  const accounts = new Accounts({ auth, devices: edgeClient(DeviceService, stack.edgeUrl) });
  const { tokens } = await accounts.register({ username: 'bench_user' });
  const login = () => auth.login({ username: 'bench_user', password: PASSWORD });
  // The storm's logins are 50 different users: auth counts a login in flight against its account's
  // failure budget (10) until it succeeds, so one account can't have 50 at once.
  const stormUsers = Array.from({ length: STORM_LOGINS }, (_, i) => `bench_storm_${i}`);
  for (const username of stormUsers) await accounts.register({ username });

  const hash = await bcrypt.hash(createHash('sha256').update(PASSWORD).digest('base64'), BCRYPT_COST);
  const rawBcryptSerial = await measure(LOGINS / 2, 1, () => bcrypt.compare('not-it', hash));
  const loginsSerial = await measure(LOGINS / 2, 1, login);
  const rawBcrypt = await measure(LOGINS, LOGIN_CONCURRENCY, () => bcrypt.compare('not-it', hash));
  const logins = await measure(LOGINS, LOGIN_CONCURRENCY, login);

  const bare = await bareHttpBaseline();
  const me = edgeClient(AuthService, stack.edgeUrl, { accessToken: tokens.accessToken });
  const getMe = await measure(GETMES, GETME_CONCURRENCY, () => me.getMe({}));

  const idle = await probeDuring(me, new Promise((r) => setTimeout(r, 3000)));
  await authLoopDelayMs(stack);
  const stormed = await probeDuring(me, Promise.all(stormUsers.map((username) => auth.login({ username, password: PASSWORD }))));
  const stormLoopDelay = await authLoopDelayMs(stack);

  header(`bcrypt cost ${BCRYPT_COST}; ${LOGIN_CONCURRENCY} logins and ${GETME_CONCURRENCY} GetMe calls in flight`);
  row(`baseline: raw bcrypt.compare, one at a time`, rawBcryptSerial);
  row(`Login through the edge, one at a time`, loginsSerial, rawBcryptSerial);
  row(`baseline: raw bcrypt.compare, in process`, rawBcrypt);
  row(`Login through the edge (Connect JSON)`, logins, rawBcrypt);
  row(`baseline: bare Node HTTP/1.1 round trip`, bare);
  row(`GetMe through the edge (Connect JSON)`, getMe, bare);
  row(`baseline: GetMe x${PROBE_CONCURRENCY}, nothing else running`, idle);
  row(`GetMe x${PROBE_CONCURRENCY} during ${STORM_LOGINS} concurrent logins`, stormed, idle);
  console.log(`auth event-loop delay, worst during the ${STORM_LOGINS} logins: ${stormLoopDelay.toFixed(1)} ms`);
} finally {
  await stack.cleanup();
}
