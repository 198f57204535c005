// The one place the bench's clients come from: the transport every client of the bench uses, and
// the Connect clients of an edge built on it. BENCH_TRANSPORT picks the transport (`lean`, the
// default, or `connect`); the runner's header prints its label. The bench measures the server, and
// its client shares the server's two cores: connect-node's client spends about as much CPU per
// call as the edge does, so by default the clients use the lean transport, which speaks the same
// Connect binary protocol for a fraction of that.
import http from 'node:http';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createLeanTransport } from '@parley/platform';
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
    label: 'createLeanTransport (@parley/platform): Connect binary, unary calls and server streams, HTTP/1.1 keep-alive agent',
    /** The transport Parley's services call each other with. */
    create: (baseUrl) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
      return createLeanTransport({ baseUrl, agent, streams: createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: true, nodeOptions: { agent } }) });
    },
  },
};

export const clientTransport = TRANSPORTS[process.env.BENCH_TRANSPORT ?? 'lean'];
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
