import { create } from '@bufbuild/protobuf';
import { Code, createClient, createRouterTransport, type ConnectRouter } from '@connectrpc/connect';
import { ViolationsSchema } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import { AuthService, CiphertextType, DeliveryService, MessageService, SendMessageRequestSchema } from '@parley/proto';
import { connectErrorOf } from '@parley/testing';
import { contractValidation } from './contract-validation.js';

const UINT63 = 2n ** 63n;

function clients(forwarded = [] as Parameters<typeof contractValidation>[0]) {
  const handled: string[] = [];
  const routes = (router: ConnectRouter) => {
    router.service(MessageService, {
      sendMessage: () => (handled.push('send'), {}),
      ackDeliveries: (req) => (handled.push('ack'), { acked: req.deliveryIds.length }),
    });
    router.service(AuthService, { login: () => (handled.push('login'), {}) });
    router.service(DeliveryService, {
      async *subscribe() {
        handled.push('subscribe');
        yield { event: { case: 'heartbeat', value: {} } };
      },
    });
  };
  const transport = createRouterTransport(routes, { router: { interceptors: [contractValidation(forwarded)] } });
  return { handled, messages: createClient(MessageService, transport), auth: createClient(AuthService, transport), delivery: createClient(DeliveryService, transport) };
}

const validSend = () =>
  create(SendMessageRequestSchema, {
    conversationId: '0b7e8a52-3f0c-4d7e-9b1a-2c4d6e8f0a1b',
    clientMessageId: 'msg-1',
    envelopes: [
      { recipientUserId: '5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', recipientDeviceId: 1, registrationId: 42, type: CiphertextType.SIGNAL, ciphertext: new Uint8Array(100) },
    ],
  });

describe('contract validation', () => {
  it('passes a request that keeps the rules on to the handler', async () => {
    const { handled, messages } = clients();
    await messages.sendMessage(validSend());
    await messages.ackDeliveries({ deliveryIds: [1n, UINT63 - 1n] });
    expect(handled).toEqual(['send', 'ack']);
  });

  it('refuses a delivery id of 2^63 or more with INVALID_ARGUMENT naming the field and the rule, before the handler', async () => {
    const { handled, messages } = clients();
    const err = await connectErrorOf(messages.ackDeliveries({ deliveryIds: [1n, UINT63] }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^invalid request: delivery_ids\[1\]: .*less than 9223372036854775808 \[uint64\.gte_lt\]$/);
    expect(err.findDetails(ViolationsSchema)[0]?.violations).toHaveLength(1);
    expect(handled).toEqual([]);
  });

  it('refuses a NUL in a username', async () => {
    const err = await connectErrorOf(clients().auth.login({ username: 'ali\u0000ce', password: 'secret' }));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^invalid request: username: .*\[string\.pattern\]$/)]);
  });

  it('names at most three violations and counts the rest', async () => {
    const req = validSend();
    req.conversationId = 'nope';
    req.clientMessageId = 'x'.repeat(65);
    req.envelopes[0]!.recipientDeviceId = 0;
    req.envelopes[0]!.type = 99 as CiphertextType;
    const err = await connectErrorOf(clients().messages.sendMessage(req));
    expect(err.rawMessage).toMatch(/^invalid request: conversation_id: .*\[string\.uuid\]; client_message_id: .*\[string\.max_len\]; envelopes\[0\]\.recipient_device_id: .*; and 1 more$/);
  });

  it("validates a server stream's request before the handler runs", async () => {
    const { handled, delivery } = clients();
    const received = [];
    for await (const res of delivery.subscribe({})) received.push(res.event.case);
    expect([received, handled]).toEqual([['heartbeat'], ['subscribe']]);
  });

  it('leaves forwarded services to the backend that serves them', async () => {
    const { handled, messages } = clients([MessageService]);
    await messages.ackDeliveries({ deliveryIds: [UINT63] });
    expect(handled).toEqual(['ack']);
  });
});
