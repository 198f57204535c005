import { connect as connectTcp, type Socket } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '@parley/platform';
import { LiveSignalSchema } from '@parley/proto';
import { eventually, metricValue, startTestStack, type TestStack } from '@parley/testing';
import { signUp, type EdgeDevice } from './support/accounts.js';

const EPHEMERAL_BYTES = 90 * 1024;
const ROUND_COUNT = 600;
const ROUND_BYTES = ROUND_COUNT * EPHEMERAL_BYTES;
const ROUNDS = 5;

let stack: TestStack;
let nats: NatsConnection;
let subjects: Subjects;
const sockets: Socket[] = [];

/**
 * Opens Subscribe as `device` on a raw connection that never reads a byte of the answer, as a
 * client that stopped reading (or a socket nobody drains) does.
 */
function stalledSubscribe(edgeUrl: string, device: EdgeDevice, contentType = 'application/connect+proto'): Socket {
  const { hostname, port } = new URL(edgeUrl);
  const socket = connectTcp({ host: hostname, port: Number(port) });
  const emptyRequest = Buffer.alloc(5);
  socket.write(
    [
      'POST /parley.messaging.v1.DeliveryService/Subscribe HTTP/1.1',
      `Host: ${hostname}:${port}`,
      `Content-Type: ${contentType}`,
      'Connect-Protocol-Version: 1',
      `Authorization: Bearer ${device.tokens.accessToken}`,
      `Content-Length: ${emptyRequest.length}`,
      '',
      '',
    ].join('\r\n'),
  );
  socket.write(emptyRequest);
  socket.pause();
  socket.on('error', () => undefined);
  sockets.push(socket);
  return socket;
}

/** Publishes `count` ephemeral deliveries of `bytes` each to the device, as messaging does for ephemeral sends. */
async function flood(device: EdgeDevice, count: number, bytes: number): Promise<void> {
  const subject = subjects.liveDevice(device.userId, device.deviceId);
  const ciphertext = new Uint8Array(bytes).fill(7);
  const signal = toBinary(
    LiveSignalSchema,
    create(LiveSignalSchema, { signal: { case: 'ephemeral', value: { id: 0n, payload: { case: 'envelope', value: { conversationId: 'c', ciphertext, ephemeral: true } } } } }),
  );
  for (let i = 0; i < count; i++) {
    nats.publish(subject, signal);
    if (i % 50 === 49) await nats.flush();
  }
  await nats.flush();
}

const metricsOf = (metricsPort: number) => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((res) => res.text());

/** Whether anything on NATS still subscribes to the device's live subject (a request finds no responders when nothing does). */
async function subscribed(device: EdgeDevice): Promise<boolean> {
  try {
    await nats.request(subjects.liveDevice(device.userId, device.deviceId), new Uint8Array(), { timeout: 1000 });
    return true;
  } catch (err) {
    return !(err as { isNoResponders?: () => boolean }).isNoResponders?.();
  }
}

describe('a Subscribe client that stops reading', () => {
  beforeAll(async () => {
    // Long enough that the flood below ends no stream for blocking; the last test shortens it.
    stack = await startTestStack({ env: { edge: { EDGE_STREAM_WRITE_TIMEOUT_SECONDS: '600' } } });
    subjects = new Subjects(stack.isolation.eventPrefix);
    nats = await connect({ servers: stack.natsUrl });
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  afterAll(async () => {
    await nats?.close();
    await stack?.cleanup();
  });

  it('keeps the edge memory flat while flooded with ephemerals, dropping them; closing it leaves no gauge and no subscription', async () => {
    const alice = await signUp(stack, 'alice');
    const edgeMetrics = () => metricsOf(stack.services.edge.metricsPort);
    const socket = stalledSubscribe(stack.edgeUrl, alice);
    await eventually(edgeMetrics, (text) => metricValue(text, 'parley_edge_streams_open') === 1);
    expect(await subscribed(alice)).toBe(true);
    const before = await edgeMetrics();

    // Rounds of ephemerals: the first fills the socket's buffers and the stream's; from then on each round is dropped.
    const rss: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await flood(alice, ROUND_COUNT, EPHEMERAL_BYTES);
      const now = await eventually(edgeMetrics, (text) => metricValue(text, 'parley_edge_ephemerals_dropped_total') >= round * ROUND_COUNT - ROUND_COUNT / 2);
      rss.push(metricValue(now, 'process_resident_memory_bytes'));
    }
    // Flat: the rounds after the first add (next to) nothing, where an unbounded buffer grows by each round's bytes.
    expect(rss.at(-1)! - rss[0]!).toBeLessThan(((ROUNDS - 1) * ROUND_BYTES) / 4);
    // External memory also holds garbage not yet collected, so it moves up and down; unbounded, it holds every byte sent.
    const after = await edgeMetrics();
    expect(metricValue(after, 'nodejs_external_memory_bytes') - metricValue(before, 'nodejs_external_memory_bytes')).toBeLessThan((ROUNDS * ROUND_BYTES) / 2);
    expect(metricValue(after, 'parley_edge_streams_open')).toBe(1);

    socket.destroy();
    const closed = await eventually(edgeMetrics, (text) => metricValue(text, 'parley_edge_streams_open') === 0);
    expect(metricValue(closed, 'parley_edge_streams_ended_total', { reason: 'client_closed' })).toBe(1);
    expect(await subscribed(alice)).toBe(false);
  });

  // Connect streams take the edge's fast path; gRPC-Web goes through connect-node.
  it.each([
    ['Connect', 'application/connect+proto'],
    ['gRPC-Web', 'application/grpc-web+proto'],
  ])('over %s: ends a stream whose writes stay blocked past EDGE_STREAM_WRITE_TIMEOUT_SECONDS, releasing its gauge and subscription and closing its connection', async (_protocol, contentType) => {
    // Kept alive far past the test's timeout: only the edge closing the request ends the connection in time.
    const edge = await stack.startReplica('edge', { EDGE_STREAM_WRITE_TIMEOUT_SECONDS: '1', EDGE_KEEP_ALIVE_TIMEOUT_SECONDS: '600' });
    const edgeMetrics = () => metricsOf(edge.process.metricsPort);
    const bob = await signUp(stack, 'bob');
    const socket = stalledSubscribe(edge.url, bob, contentType);
    await eventually(edgeMetrics, (text) => metricValue(text, 'parley_edge_streams_open') === 1);
    await flood(bob, 200, EPHEMERAL_BYTES);

    const ended = await eventually(edgeMetrics, (text) => metricValue(text, 'parley_edge_streams_open') === 0);
    expect(metricValue(ended, 'parley_edge_streams_ended_total', { reason: 'stalled' })).toBe(1);
    expect(await subscribed(bob)).toBe(false);
    // The edge let go of the request too: read what reached the socket, and find the connection closed.
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.resume();
    await closed;
  });
});
