import { randomUUID } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { events } from '@parley/platform';
import { DeliverySchema, MemberRole } from '@parley/proto';
import { PASSWORD, eventually, metricValue, type SignedInDevice } from '@parley/testing';
import { startGroupHarness, type GroupHarness } from './support/group-harness.js';

jest.setTimeout(120_000);

let h: GroupHarness;

beforeAll(async () => {
  h = await startGroupHarness();
});

afterAll(async () => {
  await h?.stop();
});

const membershipChanged = (conversationId: string) => ({ case: 'membershipChanged', value: expect.objectContaining({ conversationId }) });
const devicesChanged = (userId: string) => ({ case: 'devicesChanged', value: expect.objectContaining({ userId }) });

/** Waits until each device's queue holds exactly `expected` (as a list of notices), then empties it. */
async function expectNotices(devices: SignedInDevice[], expected: unknown[]): Promise<void> {
  for (const d of devices) {
    const seen = await eventually(
      () => h.notices(d),
      (n) => n.length >= expected.length,
    );
    expect(seen).toEqual(expected);
    await h.drain(d);
  }
}

/** Asserts the devices' queues are empty: call only after a notice the same change queued was seen elsewhere. */
async function expectNone(devices: SignedInDevice[]): Promise<void> {
  for (const d of devices) expect(await h.notices(d)).toEqual([]);
}

async function drainAll(devices: SignedInDevice[]): Promise<void> {
  for (const d of devices) await h.drain(d);
}

async function consumedDuplicates(consumer: string): Promise<number> {
  return metricValue(await h.stack.metrics('messaging'), 'parley_events_consumed_total', { consumer: `messaging_${consumer}`, outcome: 'duplicate' });
}

/** A message `from` sent into the conversation, with an envelope queued to each of `to`, written straight into messaging's tables. */
async function queuedMessage(conversationId: string, from: SignedInDevice, to: SignedInDevice[]): Promise<string> {
  const id = randomUUID();
  const [bumped] = await h.stack.query<{ seq: string }>('messaging', 'update conversation set last_seq = last_seq + 1 where id = $1 returning last_seq as seq', [conversationId]);
  const seq = bumped!.seq;
  await h.stack.query(
    'messaging',
    `insert into message (id, conversation_id, seq, sender_user_id, sender_device_id, client_message_id, sent_at, expires_at, recipients)
     values ($1, $2, $3, $4, $5, $6, now(), now() + interval '1 day', $7)`,
    [id, conversationId, seq, from.userId, from.deviceId, randomUUID(), to.map((d) => `${d.userId}.${d.deviceId}`)],
  );
  for (const d of to) {
    const body = toBinary(
      DeliverySchema,
      create(DeliverySchema, {
        serverTime: timestampFromDate(new Date()),
        payload: { case: 'envelope', value: { conversationId, messageId: id, seq: BigInt(seq), senderUserId: from.userId, senderDeviceId: from.deviceId, ciphertext: new Uint8Array([1, 2, 3]) } },
      }),
    );
    await h.stack.query(
      'messaging',
      `with d as (update device_projection set queue_seq = queue_seq + 1 where user_id = $1 and device_id = $2 returning queue_seq)
       insert into queued_delivery (recipient_user_id, recipient_device_id, queue_seq, message_id, body, created_at, expires_at)
       select $1, $2, d.queue_seq, $3, $4, now(), now() + interval '1 day' from d`,
      [d.userId, d.deviceId, id, Buffer.from(body)],
    );
  }
  return id;
}

describe('MembershipChanged', () => {
  it('reaches every device of every member after each change, and the members who were removed or left', async () => {
    const owner = await h.account();
    const ownerLaptop = await h.link(owner);
    const [a, b, c, stranger] = [await h.account(), await h.account(), await h.account(), await h.account()];
    const everyone = [owner, ownerLaptop, a, b, c, stranger];
    await drainAll(everyone);

    const signals = await h.listen(b);
    const id = (await h.conversations.createGroup({ memberUserIds: [a.userId, b.userId] }, owner.as)).conversation!.id;
    await eventually(async () => [...signals.seen], (seen) => seen.includes('delivered'));
    signals.stop();
    await expectNotices([owner, ownerLaptop, a, b], [membershipChanged(id)]);
    await expectNone([c, stranger]);

    await h.conversations.addMembers({ conversationId: id, userIds: [c.userId] }, owner.as);
    await expectNotices([owner, ownerLaptop, a, b, c], [membershipChanged(id)]);

    await h.conversations.removeMember({ conversationId: id, userId: b.userId }, owner.as);
    await expectNotices([owner, ownerLaptop, a, b, c], [membershipChanged(id)]);

    await h.conversations.setMemberRole({ conversationId: id, userId: a.userId, role: MemberRole.ADMIN }, owner.as);
    await expectNotices([owner, ownerLaptop, a, c], [membershipChanged(id)]);
    await expectNone([b]);

    await h.conversations.updateGroupInfo({ conversationId: id, encryptedInfo: new Uint8Array([9]) }, a.as);
    await expectNotices([owner, ownerLaptop, a, c], [membershipChanged(id)]);

    await h.conversations.transferOwnership({ conversationId: id, newOwnerUserId: a.userId }, owner.as);
    await expectNotices([owner, ownerLaptop, a, c], [membershipChanged(id)]);

    await h.conversations.leaveGroup({ conversationId: id }, owner.as);
    await expectNotices([owner, ownerLaptop, a, c], [membershipChanged(id)]);
    await expectNone([b, stranger]);

    // A retried add of a member changes nothing, so tells nobody.
    await h.conversations.addMembers({ conversationId: id, userIds: [c.userId] }, a.as);
    await h.conversations.updateMemberSettings({ conversationId: id, archived: true }, c.as);
    await expectNone([a, c]);
  });
});

describe('DevicesChanged', () => {
  it('tells everyone sharing a conversation with the user, and their other devices, of a new device', async () => {
    const [a, peer, groupPeer, stranger] = [await h.account(), await h.account(), await h.account(), await h.account()];
    await h.conversations.openDirectConversation({ userId: peer.userId }, a.as);
    await h.conversations.createGroup({ memberUserIds: [a.userId] }, groupPeer.as);
    await drainAll([a, peer, groupPeer, stranger]);

    const laptop = await h.link(a);
    await expectNotices([peer, groupPeer, a], [devicesChanged(a.userId)]);
    await expectNone([laptop, stranger]);
  });

  it('empties a revoked device’s queue, records its undelivered envelopes as dropped, and tells its peers', async () => {
    const [a, peer] = [await h.account(), await h.account()];
    const laptop = await h.link(a);
    const conversationId = (await h.conversations.openDirectConversation({ userId: peer.userId }, a.as)).conversation!.id;
    await drainAll([a, laptop, peer]);
    const acked = await queuedMessage(conversationId, peer, [a, laptop]);
    await h.drain(laptop);
    const pending = await queuedMessage(conversationId, peer, [a, laptop]);
    expect(await h.stack.query('messaging', 'select 1 from queued_delivery where recipient_user_id = $1 and recipient_device_id = $2', [a.userId, laptop.deviceId])).toHaveLength(1);

    const [laptopSignals, peerSignals] = [await h.listen(laptop), await h.listen(peer)];
    await h.devices.revokeDevice({ deviceId: laptop.deviceId }, a.as);
    await eventually(
      () => h.stack.query('messaging', 'select 1 from queued_delivery where recipient_user_id = $1 and recipient_device_id = $2', [a.userId, laptop.deviceId]),
      (rows) => rows.length === 0,
    );
    const messages = await h.stack.query<{ id: string; dropped: string[] }>('messaging', 'select id, dropped from message where conversation_id = $1', [conversationId]);
    // The envelope the laptop acked was delivered; the one still queued was dropped.
    expect(Object.fromEntries(messages.map((m) => [m.id, m.dropped]))).toEqual({ [acked]: [], [pending]: [`${a.userId}.${laptop.deviceId}`] });
    // The primary device's envelopes are untouched.
    expect(await h.stack.query('messaging', 'select 1 from queued_delivery where recipient_user_id = $1 and recipient_device_id = $2 and message_id is not null', [a.userId, a.deviceId])).toHaveLength(2);
    const peerNotices = await eventually(
      () => h.notices(peer),
      (n) => n.length >= 1,
    );
    expect(peerNotices).toEqual([devicesChanged(a.userId)]);
    // After the commit: the laptop's stream is told to end, the peer's to fetch.
    await eventually(async () => [...laptopSignals.seen], (seen) => seen.includes('deviceGone'));
    await eventually(async () => [...peerSignals.seen], (seen) => seen.includes('delivered'));
    laptopSignals.stop();
    peerSignals.stop();
    expect((await h.notices(a)).filter((n) => n.case === 'devicesChanged')).toEqual([devicesChanged(a.userId)]);
  });
});

describe('key events', () => {
  it('tells peers and the other devices of an identity key change, once however often the event comes', async () => {
    const [a, peer, stranger] = [await h.account(), await h.account(), await h.account()];
    const laptop = await h.link(a);
    await h.conversations.createGroup({ memberUserIds: [peer.userId] }, a.as);
    await drainAll([a, laptop, peer, stranger]);

    const before = await consumedDuplicates('identity-key-changed');
    await h.publish(events.identityKeyChanged, { userId: a.userId, deviceId: a.deviceId, identityKey: new Uint8Array(33) }, 2);
    await eventually(() => consumedDuplicates('identity-key-changed'), (n) => n > before);
    const notice = { case: 'identityKeyChanged', value: expect.objectContaining({ userId: a.userId, deviceId: a.deviceId }) };
    await expectNotices([peer, laptop], [notice]);
    await expectNone([a, stranger]);
  });

  it('tells only the device that is low on prekeys, once however often the event comes', async () => {
    const a = await h.account();
    const laptop = await h.link(a);
    await drainAll([a, laptop]);

    const before = await consumedDuplicates('pre-keys-low');
    await h.publish(events.preKeysLow, { userId: a.userId, deviceId: laptop.deviceId, preKeys: 3, pqPreKeys: 1 }, 2);
    await eventually(() => consumedDuplicates('pre-keys-low'), (n) => n > before);
    await expectNotices([laptop], [{ case: 'preKeysLow', value: expect.objectContaining({ preKeys: 3, pqPreKeys: 1 }) }]);
    await expectNone([a]);
  });
});

describe('auth.account.deleted', () => {
  /** Every row of every messaging table holding the id anywhere: as text, in arrays, or as bytes. */
  async function rowsHolding(id: string): Promise<string[]> {
    const columns = await h.stack.query<{ table_name: string; column_name: string; data_type: string }>(
      'messaging',
      `select table_name, column_name, data_type from information_schema.columns where table_schema = 'public'`,
    );
    const hits: string[] = [];
    for (const { table_name: t, column_name: c, data_type: type } of columns) {
      const where = type === 'bytea' ? `position(convert_to($1, 'UTF8') in "${c}") > 0` : `"${c}"::text like '%' || $1 || '%'`;
      const [count] = await h.stack.query<{ n: number }>('messaging', `select count(*)::int as n from "${t}" where ${where}`, [id]);
      if (count!.n > 0) hits.push(`${t}.${c}: ${count!.n}`);
    }
    return hits;
  }

  it('leaves no trace of the user, hands on the groups they owned, and tells the members', async () => {
    const gone = await h.account();
    const goneLaptop = await h.link(gone);
    const [admin, member, friend, lone] = [await h.account(), await h.account(), await h.account(), await h.account()];
    const ownedWithAdmin = (await h.conversations.createGroup({ memberUserIds: [member.userId, admin.userId] }, gone.as)).conversation!.id;
    await h.conversations.setMemberRole({ conversationId: ownedWithAdmin, userId: admin.userId, role: MemberRole.ADMIN }, gone.as);
    const ownedWithMembers = (await h.conversations.createGroup({ memberUserIds: [lone.userId] }, gone.as)).conversation!.id;
    const ownedAlone = (await h.conversations.createGroup({ memberUserIds: [] }, gone.as)).conversation!.id;
    const joined = (await h.conversations.createGroup({ memberUserIds: [gone.userId] }, friend.as)).conversation!.id;
    const direct = (await h.conversations.openDirectConversation({ userId: friend.userId }, gone.as)).conversation!.id;
    const theirs = await queuedMessage(joined, gone, [friend]);
    const toThem = await queuedMessage(joined, friend, [gone, goneLaptop]);
    await h.stack.query('messaging', 'update message set dropped = $2 where id = $1', [toThem, [`${gone.userId}.${goneLaptop.deviceId}`]]);
    await h.storage.putItem({ key: 'starred', value: new Uint8Array([1]) }, gone.as);
    // Notices about them, queued to others: their bodies hold the id as bytes.
    await h.publish(events.identityKeyChanged, { userId: gone.userId, deviceId: gone.deviceId, identityKey: new Uint8Array(33) });
    expect(await rowsHolding(gone.userId)).not.toEqual([]);
    await drainAll([admin, member, lone]);

    await h.auth.deleteAccount({ password: PASSWORD }, gone.as);
    await eventually(
      () => h.stack.query('messaging', 'select 1 from user_projection where user_id = $1', [gone.userId]),
      (rows) => rows.length === 0,
    );
    expect(await rowsHolding(gone.userId)).toEqual([]);

    const owners = await h.stack.query<{ conversation_id: string; user_id: string }>(
      'messaging',
      `select conversation_id, user_id from conversation_member where role = 'owner' and conversation_id = any($1::uuid[])`,
      [[ownedWithAdmin, ownedWithMembers, ownedAlone, joined]],
    );
    expect(Object.fromEntries(owners.map((o) => [o.conversation_id, o.user_id]))).toEqual({
      [ownedWithAdmin]: admin.userId,
      [ownedWithMembers]: lone.userId,
      [joined]: friend.userId,
    });
    expect(await h.stack.query('messaging', 'select id from conversation where id = any($1::uuid[])', [[ownedAlone, direct]])).toEqual([]);
    expect(await h.stack.query('messaging', 'select id from message where id = any($1::uuid[])', [[theirs, toThem]])).toEqual([{ id: toThem }]);
    await expectNotices([admin, member], [membershipChanged(ownedWithAdmin)]);
    await expectNotices([lone], [membershipChanged(ownedWithMembers)]);
    const friendNotices = await h.notices(friend);
    expect(friendNotices.filter((n) => n.case === 'membershipChanged')).toContainEqual(membershipChanged(joined));
    expect(friendNotices.filter((n) => n.case !== 'membershipChanged')).toEqual([]);
  });
});
