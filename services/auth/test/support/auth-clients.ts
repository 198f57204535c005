import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_PROOF_HEADER, ClientAddressProofs, decodeEvent, type EventType } from '@parley/platform';
import { AuthInternalService, AuthService, DeviceService } from '@parley/proto';
import { Accounts, TEST_CLIENT_ADDRESS_SECRET, eventually, serviceClient, type TestStack } from '@parley/testing';

/** gRPC clients straight to the stack's auth, and accounts made with them. */
export function authClients(stack: TestStack): { auth: Client<typeof AuthService>; internal: Client<typeof AuthInternalService>; accounts: Accounts } {
  const auth = serviceClient(AuthService, stack, 'auth');
  return { auth, internal: serviceClient(AuthInternalService, stack, 'auth'), accounts: new Accounts({ auth, devices: serviceClient(DeviceService, stack, 'auth') }) };
}

const asTheEdge = new ClientAddressProofs({ current: TEST_CLIENT_ADDRESS_SECRET });

/** Call options as the edge would send them for an app at `address`, signed with the stack's secret unless `proof` says otherwise. */
export function fromAddress(address: string, proof = asTheEdge.sign(address)!) {
  return { headers: { [CLIENT_ADDRESS_HEADER]: address, [CLIENT_ADDRESS_PROOF_HEADER]: proof } };
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
