import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MAX_DELIVERIES_IN_FLIGHT, Subjects } from '@parley/platform';
import { DeliverySchema, DeliveryService, LiveSignalSchema, MessageService, type SubscribeResponse } from '@parley/proto';
import {
  connectErrorOf,
  edgeClient,
  eventually,
  metricValue,
  startTestStack,
  startThrowawayNats,
  type EdgeClientOptions,
  type TestStack,
  type ThrowawayNats,
  untilDevicesKnown,
} from '@parley/testing';
import { linkWithPassword, signUp, type EdgeDevice } from './support/accounts.js';

/** A Subscribe call read in the background, as an app keeps it open. */
interface OpenSubscription {
  /** What the stream sent, heartbeats aside. */
  readonly events: SubscribeResponse['event'][];
  heartbeats(): number;
  readonly ended: Promise<ConnectError | undefined>;
  /** Ids of the stored deliveries received, in order. */
  ids(): bigint[];
  /** Ciphertexts of the envelopes received (ephemeral ones too), decoded, in order; notices aside. */
  texts(): string[];
  close(): void;
}

let stack: TestStack;
let nats: NatsConnection;
let subjects: Subjects;
const opened: OpenSubscription[] = [];

/** Subscribes as `device`, or without a token when it is null. */
function subscribe(device: EdgeDevice | null, edgeUrl = stack.edgeUrl, protocol: EdgeClientOptions['protocol'] = 'connect-binary'): OpenSubscription {
  const abort = new AbortController();
  const events: SubscribeResponse['event'][] = [];
  let heartbeats = 0;
  const client = edgeClient(DeliveryService, edgeUrl, { accessToken: device?.tokens.accessToken, protocol });
  const ended = (async () => {
    try {
      for await (const res of client.subscribe({}, { signal: abort.signal })) {
        if (res.event.case === 'heartbeat') heartbeats++;
        else events.push(res.event);
      }
      return undefined;
    } catch (err) {
      return ConnectError.from(err);
    }
  })();
  const deliveries = () => events.flatMap((e) => (e.case === 'delivery' ? [e.value] : []));
  const sub: OpenSubscription = {
    events,
    heartbeats: () => heartbeats,
    ended,
    ids: () => deliveries().flatMap((d) => (d.id === 0n ? [] : [d.id])),
    texts: () => deliveries().flatMap((d) => (d.payload.case === 'envelope' ? [Buffer.from(d.payload.value.ciphertext).toString()] : [])),
    close: () => abort.abort(),
  };
  opened.push(sub);
  return sub;
}

/** Waits until the subscription's events satisfy `done`. */
function until(sub: OpenSubscription, done: (s: OpenSubscription) => boolean, timeoutMs?: number) {
  return eventually(async () => sub, done, timeoutMs);
}

const sawQueueEmpty = (s: OpenSubscription) => s.events.some((e) => e.case === 'queueEmpty');

function envelope(text: string, ephemeral = false) {
  return {
    serverTime: timestampNow(),
    payload: { case: 'envelope' as const, value: { conversationId: '00000000-0000-4000-8000-000000000001', ciphertext: Buffer.from(text), ephemeral } },
  };
}

/**
 * Queues deliveries for a device straight into messaging's tables, at the device's next queue
 * positions, without a live signal (the tests send their own): ciphertexts `${label}-1`,
 * `${label}-2`, …; returns their ids, oldest first.
 */
async function seed(device: EdgeDevice, label: string, count: number): Promise<bigint[]> {
  // Messaging queues only to devices it knows: wait until auth's device.added reached it.
  await untilDevicesKnown(stack, 'messaging', [device]);
  const bodies = Array.from({ length: count }, (_, i) => Buffer.from(toBinary(DeliverySchema, create(DeliverySchema, envelope(`${label}-${i + 1}`)))));
  const rows = await stack.query<{ id: string }>(
    'messaging',
    `with d as (update device_projection set queue_seq = queue_seq + $4 where user_id = $1 and device_id = $2 returning queue_seq - $4 as base)
     insert into queued_delivery (recipient_user_id, recipient_device_id, queue_seq, message_id, body, created_at, expires_at)
     select $1, $2, d.base + t.n, null, b, now(), now() + interval '1 hour' from d, unnest($3::bytea[]) with ordinality as t(b, n) order by n returning id`,
    [device.userId, device.deviceId, bodies, count],
  );
  return rows.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? -1 : 1));
}

/** Publishes a live signal for a device, as messaging does after a commit; resolves once NATS has it. */
async function signal(device: EdgeDevice, value: MessageInitShape<typeof LiveSignalSchema>['signal']): Promise<void> {
  nats.publish(subjects.liveDevice(device.userId, device.deviceId), toBinary(LiveSignalSchema, create(LiveSignalSchema, { signal: value })));
  await nats.flush();
}

function ephemeral(device: EdgeDevice, text: string): Promise<void> {
  return signal(device, { case: 'ephemeral', value: envelope(text, true) });
}

function ack(device: EdgeDevice, ids: bigint[], edgeUrl = stack.edgeUrl) {
  return edgeClient(MessageService, edgeUrl, { accessToken: device.tokens.accessToken }).ackDeliveries({ deliveryIds: ids });
}

async function expectEnded(sub: OpenSubscription, code: Code, message: string): Promise<void> {
  const err = await sub.ended;
  expect([err?.code, err?.rawMessage]).toEqual([code, message]);
}

afterEach(() => {
  for (const sub of opened.splice(0)) sub.close();
});

describe('DeliveryService.Subscribe through the edge', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    subjects = new Subjects(stack.isolation.eventPrefix);
    nats = await connect({ servers: stack.natsUrl });
  });

  afterAll(async () => {
    await nats?.close();
    await stack?.cleanup();
  });

  it('refuses a call without an access token with UNAUTHENTICATED', async () => {
    const sub = subscribe(null);
    await expectEnded(sub, Code.Unauthenticated, 'missing access token: send "Authorization: Bearer <access token>"');
    expect(sub.events).toEqual([]);
  });

  it('serves DeliveryService and forwards MessageService and StorageService, but not DeliveryInternalService', async () => {
    const alice = await signUp(stack, 'alice');
    const post = async (path: string) => {
      const res = await fetch(`${stack.edgeUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.tokens.accessToken}` },
        body: '{}',
      });
      return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
    };
    const internal = await post('/parley.messaging.v1.DeliveryInternalService/FetchDeliveries');
    expect(internal.status).toBe(404);
    for (const served of ['parley.messaging.v1.DeliveryService', 'parley.messaging.v1.MessageService', 'parley.messaging.v1.StorageService']) {
      expect(internal.body.message).toContain(served);
    }
    // Past the edge's router: messaging answers, whatever it makes of an empty request.
    expect((await post('/parley.messaging.v1.StorageService/ListItems')).body.message ?? '').not.toMatch(/^no RPC at/);
    expect((await post('/parley.messaging.v1.MessageService/AckDeliveries')).body).toMatchObject({ code: 'invalid_argument' });
  });

  it('sends the queue oldest first, then QueueEmpty, then what is queued later (Connect JSON, as browsers may call)', async () => {
    const alice = await signUp(stack, 'alice');
    const queued = await seed(alice, 'old', 3);
    const sub = subscribe(alice, stack.edgeUrl, 'connect-json');
    await until(sub, sawQueueEmpty);
    expect(sub.events.map((e) => e.case)).toEqual(['delivery', 'delivery', 'delivery', 'queueEmpty']);
    expect([sub.ids(), sub.texts()]).toEqual([queued, ['old-1', 'old-2', 'old-3']]);

    const later = await seed(alice, 'new', 2);
    await signal(alice, { case: 'queued', value: {} });
    await until(sub, (s) => s.ids().length === 5);
    expect(sub.ids()).toEqual([...queued, ...later]);
    expect(sub.texts().slice(3)).toEqual(['new-1', 'new-2']);
  });

  it('holds at most 256 unacked deliveries, and sends the rest as they are acked', async () => {
    const alice = await signUp(stack, 'alice');
    const queued = await seed(alice, 'm', 300);
    const sub = subscribe(alice);
    await until(sub, (s) => s.ids().length === MAX_DELIVERIES_IN_FLIGHT);
    // Signals on one subject arrive in order: once the ephemeral is here, the queued signal before it was handled too.
    await signal(alice, { case: 'queued', value: {} });
    await ephemeral(alice, 'barrier');
    await until(sub, (s) => s.texts().includes('barrier'));
    expect(sub.ids()).toEqual(queued.slice(0, MAX_DELIVERIES_IN_FLIGHT));
    expect(sawQueueEmpty(sub)).toBe(false);

    expect((await ack(alice, queued.slice(0, 100))).acked).toBe(100);
    await until(sub, sawQueueEmpty);
    expect(sub.ids()).toEqual(queued);
  });

  it('refetches every stream on a resync, so a delivery whose signal was lost still arrives', async () => {
    const alice = await signUp(stack, 'alice');
    const sub = subscribe(alice);
    await until(sub, sawQueueEmpty);
    const queued = await seed(alice, 'unsignalled', 1);
    nats.publish(subjects.liveResync, new Uint8Array());
    await until(sub, (s) => s.ids().length === 1);
    expect(sub.ids()).toEqual(queued);
  });

  it('after a reconnect sends exactly the unacked deliveries, and never an acked one', async () => {
    const alice = await signUp(stack, 'alice');
    const queued = await seed(alice, 'm', 5);
    const first = subscribe(alice);
    await until(first, sawQueueEmpty);
    await ack(alice, [queued[0]!, queued[2]!]);
    first.close();

    const second = subscribe(alice);
    await until(second, sawQueueEmpty);
    expect(second.ids()).toEqual([queued[1], queued[3], queued[4]]);
  });

  it('ends the older stream when the device subscribes again on the same edge', async () => {
    const alice = await signUp(stack, 'alice');
    const first = subscribe(alice);
    await until(first, sawQueueEmpty);
    const second = subscribe(alice);
    await expectEnded(first, Code.FailedPrecondition, 'replaced: another Subscribe for this device is open');

    const queued = await seed(alice, 'm', 1);
    await signal(alice, { case: 'queued', value: {} });
    await until(second, (s) => s.ids().length === 1);
    expect(second.ids()).toEqual(queued);
  });

  describe('with a second edge replica', () => {
    let edgeB: string;

    beforeAll(async () => {
      edgeB = (await stack.startReplica('edge')).url;
    });

    it('ends the older stream when the device subscribes through another edge', async () => {
      const alice = await signUp(stack, 'alice');
      const onA = subscribe(alice);
      await until(onA, sawQueueEmpty);
      const onB = subscribe(alice, edgeB);
      await until(onB, sawQueueEmpty);
      await expectEnded(onA, Code.FailedPrecondition, 'replaced: another Subscribe for this device is open');
    });

    it('delivers what is signalled through NATS to a stream on the other edge', async () => {
      const alice = await signUp(stack, 'alice');
      const onB = subscribe(alice, edgeB);
      await until(onB, sawQueueEmpty);
      const queued = await seed(alice, 'm', 2);
      await signal(alice, { case: 'queued', value: {} });
      await until(onB, (s) => s.ids().length === 2);
      expect(onB.ids()).toEqual(queued);
    });

    it('frees the window of a stream on edge A when the device acks through edge B', async () => {
      const alice = await signUp(stack, 'alice');
      const queued = await seed(alice, 'm', MAX_DELIVERIES_IN_FLIGHT + 1);
      const onA = subscribe(alice);
      await until(onA, (s) => s.ids().length === MAX_DELIVERIES_IN_FLIGHT);
      await ack(alice, [queued[0]!], edgeB);
      await until(onA, sawQueueEmpty);
      expect(onA.ids()).toEqual(queued);
    });

    it('ends its streams with UNAVAILABLE when an edge shuts down, so clients reconnect elsewhere', async () => {
      const edgeC = await stack.startReplica('edge');
      const alice = await signUp(stack, 'alice');
      const onC = subscribe(alice, edgeC.url);
      await until(onC, sawQueueEmpty);
      expect(await edgeC.process.stop()).toBe(0);
      await expectEnded(onC, Code.Unavailable, 'edge is shutting down; reconnect');
    });
  });

  it('ends the stream of a revoked device with UNAUTHENTICATED', async () => {
    const alice = await signUp(stack, 'alice');
    const laptop = await linkWithPassword(stack, alice, 'Laptop');
    const sub = subscribe(laptop);
    await until(sub, sawQueueEmpty);
    await alice.devices.revokeDevice({ deviceId: laptop.deviceId });
    const err = await sub.ended;
    expect(err?.code).toBe(Code.Unauthenticated);
    // Whichever comes first ends it: the auth.session.revoked event, or messaging's deviceGone signal.
    expect(['session has ended: log in again', 'this device was revoked']).toContain(err?.rawMessage);
  });

  it('sends an ephemeral envelope only to a stream open when it is signalled (gRPC-Web)', async () => {
    const alice = await signUp(stack, 'alice');
    await ephemeral(alice, 'while-away');
    const sub = subscribe(alice, stack.edgeUrl, 'grpc-web');
    await until(sub, sawQueueEmpty);
    await ephemeral(alice, 'while-here');
    await until(sub, (s) => s.texts().length === 1);
    expect(sub.texts()).toEqual(['while-here']);
    expect(sub.ids()).toEqual([]);
  });

  it("never shows a device another device's queue", async () => {
    const alice = await signUp(stack, 'alice');
    const laptop = await linkWithPassword(stack, alice, 'Laptop');
    const bob = await signUp(stack, 'bob');
    const mine = await seed(alice, 'alice-phone', 2);
    await seed(laptop, 'alice-laptop', 2);
    await seed(bob, 'bob', 2);
    const sub = subscribe(alice);
    await until(sub, sawQueueEmpty);
    expect(sub.texts()).toEqual(['alice-phone-1', 'alice-phone-2']);
    // Messaging may also queue notices for the phone (e.g. that the laptop was added): those are its own too.
    const own = await stack.query<{ id: string }>('messaging', 'select id from queued_delivery where recipient_user_id = $1 and recipient_device_id = $2', [
      alice.userId,
      alice.deviceId,
    ]);
    const ownIds = new Set(own.map((r) => BigInt(r.id)));
    expect(sub.ids().filter((id) => !ownIds.has(id))).toEqual([]);
    expect(sub.ids()).toEqual(expect.arrayContaining(mine));
  });

  it('counts the stream as open until the client leaves, then as ended by the client, and what it sent', async () => {
    const metric = async (name: string, labels?: Record<string, string>) => metricValue(await stack.metrics('edge'), name, labels);
    const open = () => metric('parley_edge_streams_open');
    // Earlier tests' streams are closed by now, or soon.
    await eventually(open, (n) => n === 0);
    const leftBefore = await metric('parley_edge_streams_ended_total', { reason: 'client_closed' });
    const sentBefore = await metric('parley_edge_deliveries_sent_total');
    const alice = await signUp(stack, 'alice');
    await seed(alice, 'm', 2);
    const sub = subscribe(alice);
    await until(sub, sawQueueEmpty);
    expect(await open()).toBe(1);
    expect(await metric('parley_edge_deliveries_sent_total')).toBe(sentBefore + 2);
    sub.close();
    await eventually(open, (n) => n === 0);
    expect(await metric('parley_edge_streams_ended_total', { reason: 'client_closed' })).toBe(leftBefore + 1);
  });
});

describe('DeliveryService.Subscribe with short-lived access tokens, a fast safety poll and frequent heartbeats', () => {
  beforeAll(async () => {
    stack = await startTestStack({
      env: { auth: { ACCESS_TOKEN_TTL_SECONDS: '60' }, edge: { EDGE_STREAM_POLL_SECONDS: '5', EDGE_STREAM_HEARTBEAT_SECONDS: '1' } },
    });
  });

  it('sends heartbeats on an idle stream', async () => {
    const alice = await signUp(stack, 'alice');
    const sub = subscribe(alice);
    await until(sub, (s) => s.heartbeats() >= 2);
    expect(sub.events.map((e) => e.case)).toEqual(['queueEmpty']);
  });

  afterAll(() => stack?.cleanup());

  it('finds deliveries and acks whose signals were lost at the next poll', async () => {
    const alice = await signUp(stack, 'alice');
    const queued = await seed(alice, 'm', MAX_DELIVERIES_IN_FLIGHT + 1);
    const sub = subscribe(alice);
    await until(sub, (s) => s.ids().length === MAX_DELIVERIES_IN_FLIGHT);
    // Queued with no queued signal, and two acked with no acked signal: room for 257 and the late one.
    const later = await seed(alice, 'late', 1);
    await stack.query('messaging', 'delete from queued_delivery where id = any($1::bigint[])', [queued.slice(0, 2).map(String)]);
    // Only the safety poll can find them: up to 7.5 s (5 s ±50%) away, on the edge's real clock.
    await until(sub, sawQueueEmpty, 60_000);
    expect(sub.ids()).toEqual([...queued, ...later]);
  });

  it('ends the stream with UNAUTHENTICATED when its access token expires', async () => {
    const alice = await signUp(stack, 'alice');
    const sub = subscribe(alice);
    await until(sub, sawQueueEmpty);
    await expectEnded(sub, Code.Unauthenticated, 'access token expired: refresh and subscribe again');
    expect(await connectErrorOf(ack(alice, [1n]))).toMatchObject({ code: Code.Unauthenticated });
  }, 150_000);
});

// This part stops and restarts NATS, so it runs its own throwaway nats-server, never the shared one.
describe('DeliveryService.Subscribe across a NATS outage', () => {
  let throwaway: ThrowawayNats;

  beforeAll(async () => {
    throwaway = await startThrowawayNats();
    stack = await startTestStack({ services: ['auth', 'messaging', 'edge'], natsUrl: throwaway.url });
  });

  afterAll(async () => {
    await throwaway?.restart().catch(() => undefined);
    await stack?.cleanup();
    await throwaway?.dispose();
  });

  it('keeps the stream open, and refetches when the edge reconnects to NATS', async () => {
    const alice = await signUp(stack, 'alice');
    const sub = subscribe(alice);
    await until(sub, sawQueueEmpty);
    await throwaway.stop();
    // Queued while no signal can reach the edge.
    const queued = await seed(alice, 'during-outage', 2);
    await throwaway.restart();
    await until(sub, (s) => s.ids().length === 2);
    expect(sub.ids()).toEqual(queued);
  });
});
