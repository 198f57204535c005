// The one place the bench's clients come from: the transport every client of the bench uses, and
// the Connect clients of an edge built on it. To try another transport, change `clientTransport`;
// the runner's header prints its label.
import http from 'node:http';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService, ConversationService, DeliveryService, DeviceService, KeyService, MessageService } from '@parley/proto';

export const clientTransport = {
  label: 'createConnectTransport (@connectrpc/connect-node), Connect binary, HTTP/1.1 keep-alive agent',
  /**
   * A transport to `baseUrl`, as an app would use it: Connect's binary format over HTTP/1.1 with
   * a keep-alive agent that opens as many connections as there are calls in flight (so each
   * Subscribe stream holds one).
   */
  create: (baseUrl) =>
    createConnectTransport({
      baseUrl,
      httpVersion: '1.1',
      useBinaryFormat: true,
      nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: Infinity }) },
    }),
};

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

/** Call options acting as the holder of `accessToken`; made once per device, not per call. */
export const callOptions = (accessToken) => ({ headers: { authorization: `Bearer ${accessToken}` } });
