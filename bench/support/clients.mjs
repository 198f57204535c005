// The one place the bench's clients come from: the transport every client of the bench uses, and
// the Connect clients of an edge built on it. BENCH_TRANSPORT picks the transport (`connect`, the
// default, or `lean`); the runner's header prints its label.
import http from 'node:http';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { internalTransport } from '@parley/platform';
import { AuthService, ConversationService, DeliveryService, DeviceService, KeyService, MessageService } from '@parley/proto';

const TRANSPORTS = {
  connect: {
    label: 'createConnectTransport (@connectrpc/connect-node), Connect binary, HTTP/1.1 keep-alive agent',
    /**
     * As an app would call: Connect's binary format over HTTP/1.1 with a keep-alive agent that
     * opens as many connections as there are calls in flight (so each Subscribe stream holds one).
     */
    create: (baseUrl) =>
      createConnectTransport({
        baseUrl,
        httpVersion: '1.1',
        useBinaryFormat: true,
        nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: Infinity }) },
      }),
  },
  lean: {
    label: "internalTransport (@parley/platform): unary calls on its lean Connect binary HTTP/1.1 transport, streams through connect-node's Connect JSON",
    /** The transport Parley's services call each other with, here without a caller's credentials to pass on. */
    create: (baseUrl) => internalTransport(baseUrl, { onBehalfOfCaller: false }),
  },
};

export const clientTransport = TRANSPORTS[process.env.BENCH_TRANSPORT ?? 'connect'];
if (!clientTransport) throw new Error(`BENCH_TRANSPORT is ${process.env.BENCH_TRANSPORT}; it can be ${Object.keys(TRANSPORTS).join(' or ')}`);

/** Clients of the edge at `edgeUrl`, sharing one transport; the caller's token goes in each call's options. */
export function edgeClients(edgeUrl) {
  const transport = clientTransport.create(edgeUrl);
  return {
    auth: createClient(AuthService, transport),
    devices: createClient(DeviceService, transport),
    conversations: createClient(ConversationService, transport),
    messages: createClient(MessageService, transport),
    delivery: createClient(DeliveryService, transport),
    keys: createClient(KeyService, transport),
  };
}
