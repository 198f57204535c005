import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import type { SendMessageResponse } from '@parley/proto';
import { eventually, untilDevicesKnown, type TestStack } from '@parley/testing';
import { linkWithPassword, signUp, type EdgeDevice } from './accounts.js';
import { Inbox, Sender, envelopesFrom, type OutgoingEnvelopeInit } from './delivery.js';

// A direct conversation under load, and what must hold after a fault: every message reaches every
// device, each exactly once, and an acked delivery never comes back.

export interface DirectChat {
  alice: EdgeDevice;
  alice2: EdgeDevice;
  bob: EdgeDevice;
  bob2: EdgeDevice;
  conversationId: string;
  /** From Alice's primary device: to both of Bob's devices and her own second one. */
  envelopes: OutgoingEnvelopeInit[];
}

/** Alice and Bob, two devices each, in a direct conversation that messaging knows all four devices of. */
export async function directChat(stack: TestStack): Promise<DirectChat> {
  const alice = await signUp(stack, 'alice');
  const bob = await signUp(stack, 'bob');
  const alice2 = await linkWithPassword(stack, alice, 'alice laptop');
  const bob2 = await linkWithPassword(stack, bob, 'bob laptop');
  const devices = [alice, alice2, bob, bob2];
  await untilDevicesKnown(stack, 'messaging', devices);
  const opened = await eventually(
    () => alice.conversations.openDirectConversation({ userId: bob.userId }).catch((err) => ConnectError.from(err).code),
    (res) => res !== Code.NotFound,
  );
  if (typeof opened !== 'object') throw new Error(`OpenDirectConversation failed with code ${Code[opened]}`);
  const conversationId = opened.conversation!.id;
  return { alice, alice2, bob, bob2, conversationId, envelopes: envelopesFrom(alice, devices, new Uint8Array(64).fill(7)) };
}

/** Checks one device got exactly `sent`: each message once, in one delivery received once, and nothing back after its ack. */
export function expectEachOnce(inbox: Inbox, sent: SendMessageResponse[]) {
  const messages = inbox.messages();
  expect([...messages.keys()].sort()).toEqual(sent.map((s) => s.messageId).sort());
  for (const { messageId, seq } of sent) expect(messages.get(messageId)).toEqual({ seq, deliveryIds: expect.any(Set) });
  expect([...messages.values()].filter((m) => m.deliveryIds.size !== 1)).toEqual([]);
  expect([...inbox.timesReceived()].filter(([, times]) => times !== 1)).toEqual([]);
  expect(inbox.redeliveredAfterAck).toEqual([]);
  expect(inbox.ackFailures).toEqual([]);
}

/** Seqs 1…n, each once, and n distinct message ids: what a gapless, duplicate-free conversation holds. */
export function expectGapless(sent: SendMessageResponse[], n: number) {
  expect(new Set(sent.map((s) => s.messageId)).size).toBe(n);
  expect(sent.map((s) => Number(s.seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
}

export const sorted = (ids: bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

export async function storedMessages(stack: TestStack, conversationId: string): Promise<number> {
  const [row] = await stack.query<{ n: string }>('messaging', 'select count(*) as n from message where conversation_id = $1', [conversationId]);
  return Number(row!.n);
}

/** Envelopes of the conversation still in some device's queue, for the given devices. */
export async function queuedEnvelopes(stack: TestStack, conversationId: string, devices: EdgeDevice[]): Promise<number> {
  const [row] = await stack.query<{ n: string }>(
    'messaging',
    `select count(*) as n from queued_delivery q join message m on m.id = q.message_id
     where m.conversation_id = $1 and (q.recipient_user_id, q.recipient_device_id) in (select * from unnest($2::uuid[], $3::smallint[]))`,
    [conversationId, devices.map((d) => d.userId), devices.map((d) => d.deviceId)],
  );
  return Number(row!.n);
}

/** Sends `count` messages one after another, each retried by its client_message_id until it succeeds. */
export async function sendLoop(sender: Sender, chat: DirectChat, count: number, results: SendMessageResponse[]) {
  for (let i = 0; i < count; i++) results.push(await sender.send(chat.conversationId, randomUUID(), chat.envelopes));
}
