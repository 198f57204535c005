// What the messaging figures share: many signed-in devices made fast, lanes that send messages one
// at a time, and receiving devices that subscribe and ack in batches as an app would. A device is
// @parley/testing's SignedInDevice; its `as` (call options with its token) is made once, not per call.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FRANKING_COMMITMENT_BYTES } from '@parley/crypto';
import { MAX_DELIVERIES_IN_FLIGHT } from '@parley/platform';
import { CiphertextType } from '@parley/proto';
import { Accounts, eventually, uniqueUsername, untilDevicesKnown } from '@parley/testing';
import { mapConcurrently } from './measure.mjs';

/** auth lets a link code try the account's password 5 times per 10 minutes, so at most 4 linked devices each. */
const MAX_DEVICES_LINKED_WITH_PASSWORD = 5;
const CIPHERTEXT_BYTES = 160;
/** A receiver acks what has arrived once this many deliveries wait, or ACK_DELAY_MS after the first. */
const ACK_BATCH = MAX_DELIVERIES_IN_FLIGHT / 4;
const ACK_DELAY_MS = 5;

/**
 * Registers `accounts` accounts named `<prefix>_…` through `clients` with @parley/testing's
 * Accounts, each with `devicesPerAccount` devices (the primary, then linked with the password),
 * and waits until messaging knows every device. Returns the accounts, each a list of its devices
 * (SignedInDevice: {userId, deviceId, registrationId, tokens, as}, `as` being its call options).
 */
export async function signedInAccounts(stack, clients, prefix, accounts, devicesPerAccount = 1, { awaitMessaging = true } = {}) {
  if (devicesPerAccount > MAX_DEVICES_LINKED_WITH_PASSWORD) throw new Error(`at most ${MAX_DEVICES_LINKED_WITH_PASSWORD} devices per account`);
  const made = new Accounts(clients);
  const result = await mapConcurrently(accounts, 16, async () => {
    const devices = [await made.register({ username: uniqueUsername(prefix) })];
    for (let d = 1; d < devicesPerAccount; d++) devices.push(await made.linkWithPassword(devices[0]));
    return devices;
  });
  if (awaitMessaging) await untilDevicesKnown(stack, 'messaging', result.flat(), 120_000);
  return result;
}

/**
 * A lane per (sender, receiver) pair: their direct conversation, sent into through `clients` (or
 * `clientsFor(i)`, an edge per lane).
 */
export async function directLanes(clients, pairs, clientsFor = () => clients) {
  return mapConcurrently(pairs.length, 16, async (i) => {
    const [sender, receiver] = pairs[i];
    const { conversation } = await clients.conversations.openDirectConversation({ userId: receiver.userId }, sender.as);
    return { index: i, clients: clientsFor(i), conversationId: conversation.id, sender, recipients: [receiver] };
  });
}

/**
 * Sends from every lane, one message in flight per lane, until `limit` messages went out in all or
 * `seconds` passed; with `rate`, message k is due at k/rate s and carries that time as its send
 * time (pgbench -R counts latency from the scheduled start likewise). Every ciphertext carries its
 * send time, its number k and its lane (see `readStamp`). With `franked`, each message carries a
 * franking commitment of its own (random bytes: the server never checks it against a plaintext).
 * Returns {sent, startedAt}.
 */
export async function sendMessages(lanes, { limit = Infinity, seconds = Infinity, rate, franked = false } = {}) {
  const startedAt = performance.now();
  const deadline = startedAt + seconds * 1000;
  let next = 0;
  let sent = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (next < limit && performance.now() < deadline) {
        const k = next++;
        let sentAt = performance.now();
        if (rate) {
          const due = startedAt + (k * 1000) / rate;
          if (due > sentAt) await sleep(due - sentAt);
          sentAt = due;
        }
        const ciphertext = Buffer.alloc(CIPHERTEXT_BYTES);
        ciphertext.writeDoubleLE(sentAt, 0);
        ciphertext.writeUInt32LE(k, 8);
        ciphertext.writeUInt32LE(lane.index, 12);
        const envelopes = lane.recipients.map((d) => ({
          recipientUserId: d.userId,
          recipientDeviceId: d.deviceId,
          registrationId: d.registrationId,
          type: CiphertextType.SIGNAL,
          ciphertext,
        }));
        const frankingCommitment = franked ? randomBytes(FRANKING_COMMITMENT_BYTES) : undefined;
        await lane.clients.messages.sendMessage({ conversationId: lane.conversationId, clientMessageId: randomUUID(), envelopes, frankingCommitment }, lane.sender.as);
        sent++;
      }
    }),
  );
  return { sent, startedAt };
}

/** What `sendMessages` put in an envelope's ciphertext: {sentAt, k, lane}. */
export function readStamp(envelope) {
  const c = envelope.ciphertext;
  const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
  return { sentAt: view.getFloat64(0, true), k: view.getUint32(8, true), lane: view.getUint32(12, true) };
}

/**
 * A device's Subscribe stream. It hands each envelope to `onEnvelope(envelope, subscription)` and
 * acks as an app would: what has arrived, once ACK_BATCH deliveries wait or ACK_DELAY_MS after the
 * first, one AckDeliveries call at a time, so at most MAX_DELIVERIES_IN_FLIGHT stay unacked. The
 * stream must stay up: a break, or a failed ack, fails the figure.
 */
export class Subscription {
  /** Envelopes received (notices are acked too, and not counted). */
  received = 0;
  /** Envelopes acked. */
  acked = 0;
  /** The lane whose messages this device should get, when a figure checks where messages went (Tally). */
  lane = undefined;
  /** performance.now() when the last ack succeeded. */
  lastAckedAt = 0;
  #ids = [];
  #envelopesWaiting = 0;
  #timer = undefined;
  #acking = undefined;
  #failure = undefined;
  #abort = new AbortController();
  #done = undefined;
  #ackNow = () => this.#ack();

  constructor(clients, device, onEnvelope = () => undefined) {
    this.clients = clients;
    this.device = device;
    this.onEnvelope = onEnvelope;
  }

  /** Opens the stream; resolves once it has sent what was queued (QueueEmpty). */
  open() {
    const options = { ...this.device.as, signal: this.#abort.signal };
    return new Promise((ready, failed) => {
      this.#done = (async () => {
        try {
          for await (const res of this.clients.delivery.subscribe({}, options)) {
            const { event } = res;
            if (event.case === 'queueEmpty') ready();
            if (event.case !== 'delivery') continue;
            if (event.value.payload.case === 'envelope') {
              this.received++;
              this.#envelopesWaiting++;
              this.onEnvelope(event.value.payload.value, this);
            }
            this.#ids.push(event.value.id);
            if (this.#ids.length >= ACK_BATCH) this.#ack();
            else this.#timer ??= setTimeout(this.#ackNow, ACK_DELAY_MS);
          }
          if (!this.#abort.signal.aborted) throw new Error('the stream ended');
        } catch (err) {
          if (!this.#abort.signal.aborted) {
            this.#failure ??= err;
            failed(err);
          }
        }
      })();
    });
  }

  #ack() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#acking || this.#ids.length === 0) return;
    const deliveryIds = this.#ids;
    const envelopes = this.#envelopesWaiting;
    this.#ids = [];
    this.#envelopesWaiting = 0;
    this.#acking = this.clients.messages.ackDeliveries({ deliveryIds }, this.device.as).then(
      () => {
        this.acked += envelopes;
        this.lastAckedAt = performance.now();
        this.#acking = undefined;
        if (this.#ids.length >= ACK_BATCH) this.#ack();
        else if (this.#ids.length > 0) this.#timer ??= setTimeout(this.#ackNow, ACK_DELAY_MS);
      },
      (err) => {
        this.#failure ??= err;
        this.#acking = undefined;
      },
    );
  }

  /** Throws if the stream broke or an ack failed. */
  check() {
    if (this.#failure) throw this.#failure;
  }

  async close() {
    this.#abort.abort();
    await this.#done;
    clearTimeout(this.#timer);
    await this.#acking;
  }
}

/** Opens a Subscription for each of `devices` (through `clientsFor(i)`), 50 at a time. */
export function subscribeAll(clientsFor, devices, onEnvelope) {
  return mapConcurrently(devices.length, 50, async (i) => {
    const subscription = new Subscription(clientsFor(i), devices[i], onEnvelope);
    await subscription.open();
    return subscription;
  });
}

/** Waits until `subscriptions` have acked `total` envelopes between them; returns performance.now() of the last ack. */
export async function untilAcked(subscriptions, total, timeoutMs = 120_000) {
  await eventually(
    async () => {
      let acked = 0;
      for (const s of subscriptions) {
        s.check();
        acked += s.acked;
      }
      return acked;
    },
    (acked) => acked >= total,
    timeoutMs,
  );
  return Math.max(...subscriptions.map((s) => s.lastAckedAt));
}

/**
 * Counts which messages arrived where, to check that every message sent went to its lane's
 * receiver exactly once. `onEnvelope` is a Subscription's callback; `latencies` collects send→receive ms.
 */
export class Tally {
  latencies = [];
  #seen = new Map();
  #misrouted = 0;

  onEnvelope = (envelope, subscription) => {
    const now = performance.now();
    const { sentAt, k, lane } = readStamp(envelope);
    this.latencies.push(now - sentAt);
    if (subscription.lane !== undefined && subscription.lane !== lane) this.#misrouted++;
    this.#seen.set(k, (this.#seen.get(k) ?? 0) + 1);
  };

  /** Starts a new measurement. */
  reset() {
    this.latencies = [];
    this.#seen.clear();
    this.#misrouted = 0;
  }

  /** Of messages 0 … sent-1: {lost, duplicated, unexpected, misrouted}; all 0 means exactly once. */
  check(sent) {
    let lost = 0;
    let duplicated = 0;
    for (let k = 0; k < sent; k++) {
      const n = this.#seen.get(k) ?? 0;
      if (n === 0) lost++;
      if (n > 1) duplicated += n - 1;
    }
    const unexpected = [...this.#seen.keys()].filter((k) => k >= sent).length;
    return { lost, duplicated, unexpected, misrouted: this.#misrouted };
  }
}

/**
 * Sends on `lanes` (see sendMessages for `options`) and waits until `subscriptions` have acked
 * every envelope sent. Returns {sent, envelopes, seconds, perSecond}: envelopes delivered from the
 * first send to the last ack.
 */
export async function deliver(lanes, subscriptions, options) {
  const ackedBefore = subscriptions.reduce((n, s) => n + s.acked, 0);
  const { sent, startedAt } = await sendMessages(lanes, options);
  const envelopes = sent * lanes[0].recipients.length;
  const lastAck = await untilAcked(subscriptions, ackedBefore + envelopes);
  const seconds = (lastAck - startedAt) / 1000;
  return { sent, envelopes, seconds, perSecond: envelopes / seconds };
}
