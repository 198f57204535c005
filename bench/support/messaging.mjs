// What the messaging benches share: many signed-in devices made fast (with @parley/testing's
// Accounts), Connect clients of the edge shared by all of them (the token goes in each call's
// headers), and a receiving device that subscribes and acks in batches.
import http from 'node:http';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService, CiphertextType, ConversationService, DeliveryService, DeviceService, MessageService } from '@parley/proto';
import { Accounts, eventually, uniqueUsername, untilDevicesKnown } from '@parley/testing';

/** auth lets a link code try the account's password 5 times per 10 minutes, so at most 4 linked devices each. */
export const MAX_DEVICES_LINKED_WITH_PASSWORD = 5;

/** Runs `op(i)` for i = 0 … n-1 with `concurrency` in flight; the results in order. */
export async function mapConcurrently(n, concurrency, op) {
  const results = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await op(i);
      }
    }),
  );
  return results;
}

/**
 * Clients of the edge at `edgeUrl`, over HTTP/1.1 with a keep-alive agent that opens as many
 * connections as there are calls in flight (so each Subscribe stream holds one), in Connect's
 * binary format as an app would use it.
 */
export function edgeClients(edgeUrl) {
  const transport = createConnectTransport({
    baseUrl: edgeUrl,
    httpVersion: '1.1',
    useBinaryFormat: true,
    nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: Infinity }) },
  });
  return {
    auth: createClient(AuthService, transport),
    devices: createClient(DeviceService, transport),
    conversations: createClient(ConversationService, transport),
    messages: createClient(MessageService, transport),
    delivery: createClient(DeliveryService, transport),
  };
}

/** Call options acting as `device` (its `as`), with `extra` ones such as a signal. */
export const as = (device, extra = {}) => ({ ...extra, ...device.as });

/**
 * Registers `accounts` accounts named `<prefix>_…` through `clients`, each with `devicesPerAccount`
 * devices (the primary, then linked with the password), and waits until messaging knows every
 * device. Returns the accounts, each a list of its devices (SignedInDevice of @parley/testing).
 */
export async function signedInAccounts(stack, clients, prefix, accounts, devicesPerAccount, { concurrency = 16, awaitMessaging = true } = {}) {
  if (devicesPerAccount > MAX_DEVICES_LINKED_WITH_PASSWORD) throw new Error(`at most ${MAX_DEVICES_LINKED_WITH_PASSWORD} devices per account`);
  const made = new Accounts(clients);
  const result = await mapConcurrently(accounts, concurrency, async () => {
    const devices = [await made.register({ username: uniqueUsername(prefix) })];
    for (let d = 1; d < devicesPerAccount; d++) devices.push(await made.linkWithPassword(devices[0]));
    return devices;
  });
  if (awaitMessaging) await untilDevicesKnown(stack, 'messaging', result.flat(), 120_000);
  return result;
}

/** One envelope of `ciphertext` for each of `recipients`. */
export const envelopesTo = (recipients, ciphertext) =>
  recipients.map((d) => ({ recipientUserId: d.userId, recipientDeviceId: d.deviceId, registrationId: d.registrationId, type: CiphertextType.SIGNAL, ciphertext }));

/**
 * A device's Subscribe stream that hands each envelope to `onEnvelope(envelope, receivedAt)` and
 * acks everything in batches. The stream must stay up: a break fails the bench.
 */
export class Subscription {
  /** Envelopes received and acked (notices are acked too, and not counted). */
  acked = 0;
  /** performance.now() when the last ack succeeded. */
  lastAckedAt = 0;
  #pending = [];
  #flushing = undefined;
  #abort = new AbortController();
  #done;

  constructor(clients, device, onEnvelope = () => undefined) {
    this.clients = clients;
    this.device = device;
    this.onEnvelope = onEnvelope;
  }

  /** Opens the stream; resolves once it has sent what was queued (QueueEmpty). */
  open() {
    return new Promise((ready, failed) => {
      this.#done = (async () => {
        try {
          for await (const res of this.clients.delivery.subscribe({}, as(this.device, { signal: this.#abort.signal }))) {
            if (res.event.case === 'queueEmpty') ready();
            if (res.event.case !== 'delivery') continue;
            const { id, payload } = res.event.value;
            if (payload.case === 'envelope') this.onEnvelope(payload.value, performance.now());
            this.#pending.push({ id, envelope: payload.case === 'envelope' });
            this.#flushing ??= new Promise((r) => setImmediate(r)).then(() => this.#flush());
          }
          if (!this.#abort.signal.aborted) throw new Error('the stream ended');
        } catch (err) {
          if (!this.#abort.signal.aborted) {
            failed(err);
            throw err;
          }
        }
      })();
      this.#done.catch(() => undefined);
    });
  }

  async #flush() {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, 1000);
      await this.clients.messages.ackDeliveries({ deliveryIds: batch.map((d) => d.id) }, as(this.device));
      this.acked += batch.filter((d) => d.envelope).length;
      this.lastAckedAt = performance.now();
    }
    this.#flushing = undefined;
  }

  /** Fails if the stream broke. */
  async check() {
    await Promise.race([this.#done, Promise.resolve()]);
  }

  async close() {
    this.#abort.abort();
    await this.#done;
    await this.#flushing;
  }
}

/**
 * Waits until `subscriptions` have acked `total` envelopes between them, failing if a stream
 * breaks; returns performance.now() of the last ack.
 */
export async function untilAcked(subscriptions, total, timeoutMs = 300_000) {
  const count = () => subscriptions.reduce((n, s) => n + s.acked, 0);
  await eventually(
    async () => {
      await Promise.all(subscriptions.map((s) => s.check()));
      return count();
    },
    (n) => n >= total,
    timeoutMs,
  );
  return Math.max(...subscriptions.map((s) => s.lastAckedAt));
}
