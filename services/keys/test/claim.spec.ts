import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { connect } from '@nats-io/transport-node';
import { encodeEnvelope, events, packEvent, type EventType } from '@parley/platform';
import { PASSWORD, connectErrorOf, eventually } from '@parley/testing';
import { recordEvents } from './support/events.js';
import { startKeysStack, type Account, type KeysStack } from './support/keys-stack.js';

jest.setTimeout(120_000);

let ks: KeysStack;

beforeAll(async () => {
  ks = await startKeysStack({ PREKEY_CLAIMS_PER_TARGET: '1000' });
});

afterAll(() => ks?.cleanup());

const claimOutcome = (from: Account, to: Account) =>
  ks.keys.getPreKeyBundles({ userId: to.id, deviceId: 0 }, from.as).then(
    () => 'ok' as const,
    (err: unknown) => connectErrorOf(Promise.reject(err)).then((e) => [e.code, e.rawMessage] as const),
  );

const keyRows = (userId: string) =>
  ks.stack.query(
    'keys',
    `select 'device' as t from device_keys where user_id = $1
     union all select 'ec' from ec_pre_key where user_id = $1
     union all select 'kyber' from kyber_pre_key where user_id = $1`,
    [userId],
  );

/** The keys tables with a row whose text or bytes contain `needle`. */
async function tablesNaming(needle: string): Promise<string[]> {
  const tables = await ks.stack.query<{ tablename: string }>('keys', "select tablename from pg_tables where schemaname = 'public'");
  const naming: string[] = [];
  for (const { tablename } of tables) {
    const rows = await ks.stack.query<Record<string, unknown>>('keys', `select * from "${tablename}"`);
    const names = (v: unknown) => (Buffer.isBuffer(v) ? v.includes(needle) : String(v).includes(needle));
    if (rows.some((row) => Object.values(row).some(names))) naming.push(tablename);
  }
  return naming;
}

describe('GetPreKeyBundles', () => {
  it('hands out each one-time key once under 200 concurrent claims, then the last-resort key and no EC key', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    const upload = bob.device.firstUpload(100, 100);
    await ks.keys.uploadKeys(upload, bob.as);

    const results = await Promise.all(
      Array.from({ length: 200 }, () => ks.keys.getPreKeyBundles({ userId: bob.id, deviceId: 1 }, alice.as).then((r) => r.bundles[0]!)),
    );
    const ec = results.filter((b) => b.preKey).map((b) => b.preKey!.keyId);
    const kyber = results.filter((b) => !b.pqPreKeyIsLastResort).map((b) => b.pqPreKey!.keyId);
    expect(ec).toHaveLength(100);
    expect(new Set(ec)).toEqual(new Set(upload.preKeys.map((k) => k.keyId)));
    expect(kyber).toHaveLength(100);
    expect(new Set(kyber)).toEqual(new Set(upload.pqPreKeys.map((k) => k.keyId)));
    const rest = results.filter((b) => b.pqPreKeyIsLastResort);
    expect(rest).toHaveLength(100);
    expect(rest.every((b) => b.pqPreKey!.keyId === upload.pqLastResortPreKey.keyId && b.preKey === undefined)).toBe(true);
    expect((await ks.keys.getPreKeyCounts({}, bob.as)).counts).toEqual(expect.objectContaining({ preKeys: 0, pqPreKeys: 0 }));
  });

  it('gives every device of a user that uploaded keys, with its registration id', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    const laptop = await ks.link(bob);
    const idle = await ks.link(bob);
    for (const device of [bob, laptop]) await ks.keys.uploadKeys(device.device.firstUpload(1, 1), device.as);
    const { bundles } = await ks.keys.getPreKeyBundles({ userId: bob.id, deviceId: 0 }, alice.as);
    expect(bundles.map((b) => [b.deviceId, b.registrationId])).toEqual([
      [1, bob.device.registrationId],
      [laptop.device.deviceId, laptop.device.registrationId],
    ]);
    const missing = await connectErrorOf(ks.keys.getPreKeyBundles({ userId: bob.id, deviceId: idle.device.deviceId }, alice.as));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, `user ${bob.id} has no device ${idle.device.deviceId} with keys`]);
  });

  it('validates the target and says what is missing', async () => {
    const alice = await ks.account();
    const nobody = randomUUID();
    const refused = async (userId: string, deviceId = 0) => {
      const err = await connectErrorOf(ks.keys.getPreKeyBundles({ userId, deviceId }, alice.as));
      return [err.code, err.rawMessage];
    };
    expect(await refused('bob')).toEqual([Code.InvalidArgument, 'invalid request: user_id: must be a valid UUID [string.uuid]']);
    expect(await refused(nobody, 128)).toEqual([Code.InvalidArgument, 'invalid request: device_id: must be less than or equal to 127 [uint32.lte]']);
    expect(await refused(nobody)).toEqual([Code.NotFound, `user ${nobody} has no devices with keys`]);
    expect((await connectErrorOf(ks.keys.getPreKeyBundles({ userId: nobody, deviceId: 0 }))).code).toBe(Code.Unauthenticated);
  });

  it('answers either way, while a block stands, as for a user without keys, and allows it once the block is lifted', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    for (const who of [alice, bob]) await ks.keys.uploadKeys(who.device.firstUpload(), who.as);
    await ks.contacts.blockUser({ userId: bob.id }, alice.as);
    const noKeys = (who: Account) => [Code.NotFound, `user ${who.id} has no devices with keys`];
    await eventually(() => claimOutcome(bob, alice), (o) => o !== 'ok');
    expect(await claimOutcome(bob, alice)).toEqual(noKeys(alice));
    expect(await claimOutcome(alice, bob)).toEqual(noKeys(bob));
    await ks.contacts.unblockUser({ userId: bob.id }, alice.as);
    await eventually(() => claimOutcome(bob, alice), (o) => o === 'ok');
    expect(await claimOutcome(alice, bob)).toBe('ok');
  });
});

describe('low-water mark', () => {
  it('announces keys.pre_keys.ran_low once per crossing, again only after an upload lifted the counts', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    const low = await recordEvents(ks.stack, events.preKeysLow);
    try {
      await ks.keys.uploadKeys(bob.device.firstUpload(12, 20), bob.as);
      const claims = (n: number) => Promise.all(Array.from({ length: n }, () => ks.keys.getPreKeyBundles({ userId: bob.id, deviceId: 1 }, alice.as)));
      await claims(2); // 10 EC left: at the mark, not below
      await claims(1); // 9: below
      await claims(4); // still below: no second announcement
      await eventually(async () => low.seen.length, (n) => n >= 1);
      await ks.keys.uploadKeys({ identityKey: bob.device.identityKey, preKeys: Array.from({ length: 5 }, () => bob.device.preKey()), pqPreKeys: [] }, bob.as);
      await claims(1); // 9 EC again after the upload lifted them to 10
      // Carol crosses the mark after all of Bob's claims committed. Announcements go out in commit
      // order, so once hers is here, any other of Bob's would have arrived before it.
      const carol = await ks.account();
      await ks.keys.uploadKeys(carol.device.firstUpload(10, 20), carol.as);
      await ks.keys.getPreKeyBundles({ userId: carol.id, deviceId: 1 }, alice.as);
      await eventually(async () => low.seen.map((e) => e.userId), (users) => users.includes(carol.id));
      expect(low.seen.map((e) => [e.userId, e.deviceId, e.preKeys, e.pqPreKeys])).toEqual([
        [bob.id, 1, 9, 17],
        [bob.id, 1, 9, 12],
        [carol.id, 1, 9, 19],
      ]);
    } finally {
      await low.close();
    }
  });
});

describe('cleanup from events', () => {
  it('drops a revoked device keys, and every key of a deleted account but the anonymous log leaves', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    const laptop = await ks.link(bob);
    for (const device of [bob, laptop]) await ks.keys.uploadKeys(device.device.firstUpload(3, 3), device.as);
    await ks.contacts.blockUser({ userId: alice.id }, bob.as);
    const leaves = Number((await ks.keys.getTreeHead({}, alice.as)).treeHead!.treeSize);

    await ks.devices.revokeDevice({ deviceId: laptop.device.deviceId }, bob.as);
    await eventually(() => keyRows(bob.id), (rows) => rows.length === 7);
    await ks.contacts.unblockUser({ userId: alice.id }, bob.as);
    await eventually(() => claimOutcome(alice, bob), (o) => o === 'ok');
    const { bundles } = await ks.keys.getPreKeyBundles({ userId: bob.id, deviceId: 0 }, alice.as);
    expect(bundles.map((b) => b.deviceId)).toEqual([1]);

    await ks.contacts.blockUser({ userId: alice.id }, bob.as);
    // The search below finds bob where he is stored, so its empty answer means something.
    const before = await eventually(() => tablesNaming(bob.id), (tables) => tables.includes('block_projection'));
    expect(before).toEqual(expect.arrayContaining(['device_keys', 'ec_pre_key', 'kyber_pre_key', 'device_projection', 'rate_limit_bucket']));
    await ks.auth.deleteAccount({ password: PASSWORD }, bob.as);
    await eventually(() => keyRows(bob.id), (rows) => rows.length === 0);
    await eventually(
      () => ks.stack.query('keys', 'select 1 from device_projection where user_id = $1 union all select 1 from block_projection where blocker_id = $1', [bob.id]),
      (rows) => rows.length === 0,
    );
    // The log keeps its leaves (hashes only), so its history stays verifiable.
    expect(Number((await ks.keys.getTreeHead({}, alice.as)).treeHead!.treeSize)).toBeGreaterThanOrEqual(leaves);
    // Nothing in any table names bob any more, in text or in bytes.
    await eventually(() => tablesNaming(bob.id), (tables) => tables.length === 0);
  });
});

/** Publishes an event as auth would have, dated `occurredAt`; its id. */
async function publishAt<D extends DescMessage>(type: EventType<D>, payload: MessageInitShape<D>, occurredAt: Date): Promise<string> {
  const nc = await connect({ servers: ks.stack.natsUrl });
  try {
    const envelope = packEvent('auth', type, payload);
    envelope.occurredAt = timestampFromDate(occurredAt);
    await nc.request(ks.stack.isolation.subjects.of(type), encodeEnvelope(envelope));
    return envelope.id;
  } finally {
    await nc.close();
  }
}

describe('read-models', () => {
  it('keep a revoked device revoked when its older auth.device.added arrives late', async () => {
    const bob = await ks.account();
    const processed = (id: string) =>
      eventually(() => ks.stack.query('keys', 'select 1 from processed_event where event_id = $1', [id]), (rows) => rows.length === 1);
    await processed(await publishAt(events.deviceRevoked, { userId: bob.id, deviceId: 9 }, new Date()));
    await processed(await publishAt(events.deviceAdded, { userId: bob.id, deviceId: 9, registrationId: 99 }, new Date(Date.now() - 60_000)));
    expect(await ks.stack.query('keys', 'select active from device_projection where user_id = $1 and device_id = 9', [bob.id])).toEqual([
      { active: false },
    ]);
  });
});
