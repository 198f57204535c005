import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { CLIENT_ADDRESS_HEADER, decodeEvent, type EventType } from '@parley/platform';
import { AuthInternalService, AuthService } from '@parley/proto';
import { eventually, type TestStack } from '@parley/testing';

export const password = 'correct horse battery';

export function authClients(stack: TestStack): { auth: Client<typeof AuthService>; internal: Client<typeof AuthInternalService> } {
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.auth.rpcPort}` });
  return { auth: createClient(AuthService, transport), internal: createClient(AuthInternalService, transport) };
}

export function withToken(token: string) {
  return { headers: { authorization: `Bearer ${token}` } };
}

/** Call options as the edge would send them for an app at `address`. */
export function fromAddress(address: string) {
  return { headers: { [CLIENT_ADDRESS_HEADER]: address } };
}

/** Unique usernames per test file and process. */
export function usernames(prefix: string) {
  let n = 0;
  return () => `${prefix}_${process.pid}_${++n}`;
}

/** Every event of `type` the run's stream holds so far, decoded, oldest first. */
export async function eventsOf<D extends DescMessage>(stack: TestStack, type: EventType<D>): Promise<MessageShape<D>[]> {
  const nc = await connect({ servers: stack.natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const subject = stack.isolation.subjects.of(type);
    const { state } = await jsm.streams.info(stack.isolation.subjects.stream);
    const payloads: MessageShape<D>[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(stack.isolation.subjects.stream, { seq }).catch(() => undefined);
      if (msg?.subject === subject) payloads.push(decodeEvent(type, msg.data).payload);
    }
    return payloads;
  } finally {
    await nc.close();
  }
}

/** Waits until an event of `type` satisfies `match`, and answers the latest that does. */
export async function awaitEvent<D extends DescMessage>(stack: TestStack, type: EventType<D>, match: (p: MessageShape<D>) => boolean): Promise<MessageShape<D>> {
  const found = await eventually(
    async () => (await eventsOf(stack, type)).filter(match),
    (list) => list.length > 0,
  );
  return found[found.length - 1]!;
}
