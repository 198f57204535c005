import { randomUUID } from 'node:crypto';
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { frankMessage, parseFrankingKeyring, reportingTag } from '@parley/crypto';
import { decodeEvent, type EventType } from '@parley/platform';
import { ModerationService, ModeratorService, ReportingTagSchema, type ReportingTag } from '@parley/proto';
import { edgeClient, eventually, type TestStack } from '@parley/testing';
import type { EdgeDevice } from './accounts.js';

/** A user's two moderation services through the edge. */
export interface ModerationClients {
  moderation: Client<typeof ModerationService>;
  console: Client<typeof ModeratorService>;
}

export function moderationClientsOf(stack: TestStack, device?: EdgeDevice): ModerationClients {
  const accessToken = device?.tokens.accessToken;
  return { moderation: edgeClient(ModerationService, stack.edgeUrl, { accessToken }), console: edgeClient(ModeratorService, stack.edgeUrl, { accessToken }) };
}

/** Restarts moderation with `userId` as the first admin from config. */
export async function withFirstAdmin(stack: TestStack, userId: string): Promise<void> {
  await stack.services.moderation.stop();
  await stack.services.moderation.start({ MODERATION_FIRST_ADMIN_USER_ID: userId });
  await stack.services.moderation.waitHealthy();
}

/** Waits until moderation has heard of every user from auth's events. */
export async function untilModerationKnows(stack: TestStack, userIds: string[]): Promise<void> {
  await eventually(
    () => stack.query<{ n: string }>('moderation', 'select count(*) as n from moderation_user where user_id = any($1::uuid[])', [userIds]),
    ([row]) => Number(row!.n) === userIds.length,
  );
}

/** Waits until moderation knows the conversation's members from messaging's events. */
export async function untilModerationKnowsConversation(stack: TestStack, conversationId: string): Promise<void> {
  await eventually(() => stack.query('moderation', 'select 1 from conversation_members where conversation_id = $1', [conversationId]), (rows) => rows.length === 1);
}

/** Every event of one type published on this run's subjects, decoded, from subscription on. */
export class EventRecorder<D extends DescMessage> {
  readonly seen: MessageShape<D>[] = [];
  private constructor(private readonly nc: NatsConnection) {}

  static async start<D extends DescMessage>(stack: TestStack, type: EventType<D>): Promise<EventRecorder<D>> {
    const recorder = new EventRecorder<D>(await connect({ servers: stack.natsUrl }));
    const sub = recorder.nc.subscribe(stack.isolation.subjects.of(type));
    void (async () => {
      for await (const msg of sub) recorder.seen.push(decodeEvent(type, msg.data).payload);
    })();
    await recorder.nc.flush();
    return recorder;
  }

  /** The first event recorded (now or later) that `match` accepts. */
  async next(match: (event: MessageShape<D>) => boolean): Promise<MessageShape<D>> {
    const found = await eventually(async () => this.seen.find(match), (e) => e !== undefined);
    return found!;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

/**
 * A franked message from `sender` to `recipient` in `conversationId`, tagged as messaging tags it
 * at relay time with the stack's keyring: the franked content the recipient decrypts, and the tag
 * delivered with the envelope. Used until messaging's tagging is merged (issue 14, "frank").
 */
export async function taggedMessage(
  stack: TestStack,
  sender: EdgeDevice,
  recipient: EdgeDevice,
  conversationId: string,
  text: string,
): Promise<{ content: Uint8Array; tag: ReportingTag }> {
  const keyring = parseFrankingKeyring(stack.services.moderation.env.FRANKING_KEYS!, stack.services.moderation.env.FRANKING_ACTIVE_KEY_ID!);
  const franked = await frankMessage(new TextEncoder().encode(text));
  const ctx = {
    keyId: keyring.activeKeyId,
    commitment: franked.commitment,
    senderUserId: sender.userId,
    senderDeviceId: sender.deviceId,
    recipientUserId: recipient.userId,
    recipientDeviceId: recipient.deviceId,
    conversationId,
    messageId: randomUUID(),
    serverTimeMs: BigInt(Date.now()),
  };
  const tag = reportingTag(keyring.keys.get(keyring.activeKeyId)!, ctx);
  return { content: franked.content, tag: create(ReportingTagSchema, { ...ctx, tag, serverTime: timestampFromMs(Number(ctx.serverTimeMs)) }) };
}
