// GetMe through the edge (the edge checks the token, forwards to auth, which checks it again and
// reads the session), IN_FLIGHT calls at a time, beside a bare Node HTTP/1.1 server in its own
// process that answers every call with the same GetMe response bytes: the same Connect client and
// transport call both, so the baseline costs the client the same.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { AuthService, GetMeResponseSchema } from '@parley/proto';
import { clientTransport } from '../support/clients.mjs';
import { cpuLine, startCpu } from '../support/cpu.mjs';
import { measure } from '../support/measure.mjs';
import { signedInAccounts } from '../support/messaging.mjs';
import { latencies, num, perSecond, row } from '../support/table.mjs';

const IN_FLIGHT = 16;
const WARMUP_SECONDS = 1;
const SECONDS = 6;

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
    let baseline;
    try {
      const bareClient = createClient(AuthService, clientTransport.create(bare.url));
      const bareGetMe = () => bareClient.getMe({}, me.as);
      await measure(IN_FLIGHT, bareGetMe, { seconds: WARMUP_SECONDS });
      const cpu = startCpu([{ name: 'bare server', pid: bare.child.pid }]);
      baseline = await measure(IN_FLIGHT, bareGetMe, { seconds: SECONDS });
      ctx.note(`bare server: ${perSecond(baseline)}, ${latencies(baseline)}; ${cpuLine(cpu.stop(), baseline.samples, 'call')}`);
    } finally {
      bare.child.disconnect();
    }

    await measure(IN_FLIGHT, getMe, { seconds: WARMUP_SECONDS });
    const cpu = ctx.startCpu();
    const edge = await measure(IN_FLIGHT, getMe, { seconds: SECONDS });
    const used = cpu.stop();
    ctx.note(`through the edge: ${perSecond(edge)}, ${latencies(edge)}; ${cpuLine(used, edge.samples, 'call')}`);
    return [
      row(`GetMe through the edge, ${IN_FLIGHT} in flight`, `${perSecond(edge, ' calls/s')} (${latencies(edge)}; Parley CPU ${num(used.parley / edge.samples)} ms/call)`, `bare Node HTTP/1.1 Connect unary server, same client: ${perSecond(baseline, ' calls/s')} (${latencies(baseline)})`, {
        ratio: edge.perSecond / baseline.perSecond,
        samples: `${num(edge.samples)} calls; ${num(baseline.samples)} calls`,
      }),
    ];
  },
};
