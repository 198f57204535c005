// GetMe through the edge (the edge checks the token, forwards to auth, which checks it again and
// reads the session), IN_FLIGHT calls at a time, beside a bare Node HTTP/1.1 server in its own
// process that answers every call with the same GetMe response bytes: the same Connect client and
// transport call both, so the baseline costs the client the same. The two are measured in
// alternating rounds, so both see the same load from other work on the box.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { AuthService, GetMeResponseSchema } from '@parley/proto';
import { clientTransport } from '../support/clients.mjs';
import { cpuLine, startCpu } from '../support/cpu.mjs';
import { alternately, measure } from '../support/measure.mjs';
import { signedInAccounts } from '../support/messaging.mjs';
import { latencies, ms, num, perSecond, row } from '../support/table.mjs';

const IN_FLIGHT = 16;
const WARMUP_SECONDS = 1;
const SECONDS = 6; // each side, in ROUNDS alternating rounds
const ROUNDS = 3;

/** Starts the bare server answering `response`; resolves to {url, child}. */
async function bareServer(response) {
  const child = fork(fileURLToPath(new URL('../support/bare-connect-server.mjs', import.meta.url)), [Buffer.from(response).toString('base64')], { stdio: 'inherit' });
  const [port] = await once(child, 'message');
  return { url: `http://127.0.0.1:${port}`, child };
}

export default {
  name: 'getMe',
  about: `GetMe through the edge, ${IN_FLIGHT} in flight, beside a bare HTTP/1.1 server answering the same bytes to the same client`,
  services: ['auth', 'edge'],
  async run(ctx) {
    const [[me]] = await signedInAccounts(ctx.stack, ctx.clients, 'get_me', 1, 1, { awaitMessaging: false });
    const getMe = () => ctx.clients.auth.getMe({}, me.as);
    const response = toBinary(GetMeResponseSchema, await getMe());

    const bare = await bareServer(response);
    let edge, baseline, used, bareUsed;
    try {
      const bareClient = createClient(AuthService, clientTransport.create(bare.url));
      const bareGetMe = () => bareClient.getMe({}, me.as);
      await measure(IN_FLIGHT, bareGetMe, { seconds: WARMUP_SECONDS });
      await measure(IN_FLIGHT, getMe, { seconds: WARMUP_SECONDS });
      const cpu = ctx.startCpu();
      const bareCpu = startCpu([{ name: 'bare server', pid: bare.child.pid }]);
      [edge, baseline] = await alternately(
        ROUNDS,
        ({ seconds }) => measure(IN_FLIGHT, getMe, { seconds }),
        ({ seconds }) => measure(IN_FLIGHT, bareGetMe, { seconds }),
        { seconds: SECONDS },
      );
      bareUsed = bareCpu.stop();
      used = cpu.stop();
    } finally {
      bare.child.disconnect();
    }
    ctx.note(`bare server: ${perSecond(baseline)}, ${latencies(baseline)}, its CPU ${ms(bareUsed.parley / baseline.samples)} per call`);
    ctx.note(`through the edge: ${perSecond(edge)}, ${latencies(edge)}; ${cpuLine(used, edge.samples, 'call')} (the window holds the bare server's rounds too)`);
    return [
      row(`GetMe through the edge, ${IN_FLIGHT} in flight`, `${perSecond(edge, ' calls/s')} (${latencies(edge)}; Parley CPU ${num(used.parley / edge.samples)} ms/call)`, `bare Node HTTP/1.1 Connect unary server, same client: ${perSecond(baseline, ' calls/s')} (${latencies(baseline)})`, {
        ratio: edge.perSecond / baseline.perSecond,
        samples: `${num(edge.samples)} calls; ${num(baseline.samples)} calls`,
      }),
    ];
  },
};
