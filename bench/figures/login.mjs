// Login through the edge, on a stack of its own with auth's production bcrypt cost, beside what
// bounds it: raw bcrypt.compare at the same cost and concurrency, in this process. Then GetMe,
// PROBES at a time, while STORM logins (of as many accounts) run at once, beside GetMe with nothing
// else running: bcrypt runs in a few slots of libuv's pool, so the cheap call should wait for CPU,
// not behind a blocked event loop or a full pool. auth's worst event-loop delay during the storm
// is printed.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcrypt';
import { PASSWORD, metricValue } from '@parley/testing';
import { alternately, measure, summarize } from '../support/measure.mjs';
import { signedInAccounts } from '../support/messaging.mjs';
import { latencies, num, perSecond, row } from '../support/table.mjs';

const BCRYPT_COST = 12;
const ROUNDS = 4; // Login and raw bcrypt alternate, so both see the same load from other work
const SERIAL_LOGINS = 12;
const LOGINS = 32;
const LOGINS_IN_FLIGHT = 8;
const STORM = 32;
const PROBES = 2;
const IDLE_PROBE_MS = 3000;

/** GetMe, PROBES at a time, for as long as `load` runs. */
async function probeDuring(getMe, load) {
  const probeLatencies = [];
  let done = false;
  const started = performance.now();
  const probes = Array.from({ length: PROBES }, async () => {
    while (!done) {
      const t = performance.now();
      await getMe();
      probeLatencies.push(performance.now() - t);
    }
  });
  await load;
  done = true;
  await Promise.all(probes);
  return summarize(probeLatencies, (performance.now() - started) / 1000);
}

export default {
  name: 'login',
  about: `Login through the edge beside raw bcrypt at cost ${BCRYPT_COST}; GetMe during a burst of ${STORM} logins`,
  services: ['auth', 'edge'],
  env: { auth: { BCRYPT_COST: String(BCRYPT_COST) } },
  ownStack: true,
  async run(ctx) {
    const { auth } = ctx.clients;
    const accounts = (await signedInAccounts(ctx.stack, ctx.clients, 'login', STORM + 1, 1, { awaitMessaging: false })).map(([d]) => d);
    // Each signs the account's device 1 in again (with its own secret), so no login adds a device.
    const signInAgain = (device) => auth.login({ username: device.username, password: PASSWORD, deviceId: device.deviceId, deviceSecret: device.deviceSecret });
    const login = () => signInAgain(accounts[0]);
    const hash = await bcrypt.hash(createHash('sha256').update(PASSWORD).digest('base64'), BCRYPT_COST);
    const compare = () => bcrypt.compare('not-it', hash);

    const cpu = ctx.startCpu();
    const side = (inFlight, op) => ({ total }) => measure(inFlight, op, { total });
    const [loginsSerial, bcryptSerial] = await alternately(ROUNDS, side(1, login), side(1, compare), { total: SERIAL_LOGINS });
    const [loginsParallel, bcryptParallel] = await alternately(ROUNDS, side(LOGINS_IN_FLIGHT, login), side(LOGINS_IN_FLIGHT, compare), { total: LOGINS });
    ctx.note(`Login one at a time ${perSecond(loginsSerial)}, ${LOGINS_IN_FLIGHT} in flight ${perSecond(loginsParallel)}; bcrypt ${perSecond(bcryptSerial)}, ${perSecond(bcryptParallel)}`);

    const getMe = () => auth.getMe({}, accounts[0].as);
    const loopDelayMs = async () => metricValue(await ctx.stack.metrics('auth'), 'nodejs_eventloop_lag_max_seconds') * 1000;
    const idle = await probeDuring(getMe, sleep(IDLE_PROBE_MS));
    await loopDelayMs(); // prom-client resets the worst delay on each scrape
    const stormed = await probeDuring(getMe, Promise.all(accounts.slice(1).map(signInAgain)));
    const stormLoopDelay = await loopDelayMs();
    cpu.stop();
    ctx.note(`GetMe x${PROBES}: idle ${latencies(idle)}; during ${STORM} logins ${latencies(stormed)}; auth's worst event-loop delay ${num(stormLoopDelay)} ms`);

    const samples = (a, b) => `${num(a.samples)}; ${num(b.samples)}`;
    return [
      row(`Login through the edge, one at a time (bcrypt cost ${BCRYPT_COST})`, `${perSecond(loginsSerial, ' logins/s')} (${latencies(loginsSerial)})`, `raw bcrypt.compare, one at a time: ${perSecond(bcryptSerial)} (${latencies(bcryptSerial)})`, {
        ratio: loginsSerial.perSecond / bcryptSerial.perSecond,
        samples: samples(loginsSerial, bcryptSerial),
      }),
      row(`Login through the edge, ${LOGINS_IN_FLIGHT} in flight`, `${perSecond(loginsParallel, ' logins/s')} (${latencies(loginsParallel)})`, `raw bcrypt.compare, ${LOGINS_IN_FLIGHT} in flight: ${perSecond(bcryptParallel)} (${latencies(bcryptParallel)})`, {
        ratio: loginsParallel.perSecond / bcryptParallel.perSecond,
        samples: samples(loginsParallel, bcryptParallel),
      }),
      row(`GetMe x${PROBES} during ${STORM} concurrent logins (auth's worst loop delay ${num(stormLoopDelay)} ms)`, `${perSecond(stormed, ' calls/s')} (${latencies(stormed)})`, `GetMe x${PROBES}, nothing else running: ${perSecond(idle, ' calls/s')} (${latencies(idle)})`, {
        ratio: stormed.perSecond / idle.perSecond,
        samples: samples(stormed, idle),
      }),
    ];
  },
};
