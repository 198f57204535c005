import { Code } from '@connectrpc/connect';
import { cryptoReady, verifyConsistency, verifyIdentityKeyInclusion, verifyTreeHead } from '@parley/crypto';
import { events } from '@parley/platform';
import type { PreKeyBundle, SignedTreeHead } from '@parley/proto';
import { connectErrorOf, eventually } from '@parley/testing';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { recordEvents } from './support/events.js';
import { startKeysStack, type Account, type KeysStack } from './support/keys-stack.js';
import { SignalDevice } from './support/signal-device.js';

jest.setTimeout(120_000);

let ks: KeysStack;

beforeAll(async () => {
  await cryptoReady();
  // A small store and claim budget, so the limits are reachable.
  ks = await startKeysStack({ MAX_STORED_PRE_KEYS: '150', PREKEY_CLAIMS_PER_TARGET: '3', PREKEY_CLAIMS_PER_TARGET_REFILL_SECONDS: '3600' });
});

afterAll(() => ks?.cleanup());

const head = (h: SignedTreeHead) => ({ treeSize: Number(h.treeSize), rootHash: h.rootHash, timestampMs: Number(h.timestamp!.seconds) * 1000 + h.timestamp!.nanos / 1e6 });

async function claim(from: Account, to: Account, deviceId = to.device.deviceId): Promise<PreKeyBundle> {
  const { bundles } = await ks.keys.getPreKeyBundles({ userId: to.id, deviceId }, from.as);
  expect(bundles).toHaveLength(1);
  return bundles[0]!;
}

async function uploadError(a: Account, req: Parameters<KeysStack['keys']['uploadKeys']>[0]) {
  const err = await connectErrorOf(ks.keys.uploadKeys(req, a.as));
  return [err.code, err.rawMessage];
}

describe('UploadKeys and a claim, with libsignal on both ends', () => {
  it('serves a bundle that starts a PQXDH session libsignal can decrypt, with a verifiable log proof', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    const up = await ks.keys.uploadKeys(bob.device.firstUpload(3, 3), bob.as);
    expect([up.counts?.preKeys, up.counts?.pqPreKeys, up.identityChanged]).toEqual([3, 3, false]);

    const bundle = await claim(alice, bob);
    expect(bundle.deviceId).toBe(1);
    expect(bundle.registrationId).toBe(bob.device.registrationId);
    expect(Buffer.from(bundle.identityKey)).toEqual(Buffer.from(bob.device.identityKey));
    expect(bundle.pqPreKeyIsLastResort).toBe(false);
    expect(bundle.preKey).toBeDefined();

    const to = await alice.device.startSession(bob.id, bundle);
    const ciphertext = await alice.device.encrypt(to, 'hello through parley');
    expect(await bob.device.decryptFirst(alice.device.address, ciphertext)).toBe('hello through parley');

    const { treeHead, logPublicKey } = await ks.keys.getTreeHead({}, alice.as);
    expect(verifyTreeHead(head(treeHead!), treeHead!.signature, logPublicKey)).toBe(true);
    const proof = bundle.identityKeyProof!;
    expect(
      verifyIdentityKeyInclusion({
        userId: bob.id,
        deviceId: 1,
        identityKey: bundle.identityKey,
        leafIndex: Number(proof.leafIndex),
        auditPath: proof.auditPath,
        head: head(proof.treeHead!),
        signature: proof.treeHead!.signature,
        logPublicKey,
      }),
    ).toBe(true);
    expect((await ks.keys.getPreKeyCounts({}, bob.as)).counts).toEqual(expect.objectContaining({ preKeys: 2, pqPreKeys: 2 }));
  });

  it('replaces the signed prekey and the last-resort key on a later upload', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    await ks.keys.uploadKeys(bob.device.firstUpload(), bob.as);
    const signed = bob.device.signedPreKey();
    const lastResort = bob.device.kyberPreKey();
    const up = await ks.keys.uploadKeys({ identityKey: bob.device.identityKey, signedPreKey: signed, pqLastResortPreKey: lastResort }, bob.as);
    expect(up.identityChanged).toBe(false);
    const bundle = await claim(alice, bob);
    expect([bundle.signedPreKey?.keyId, bundle.pqPreKey?.keyId, bundle.pqPreKeyIsLastResort, bundle.preKey]).toEqual([
      signed.keyId,
      lastResort.keyId,
      true,
      undefined,
    ]);
    const to = await alice.device.startSession(bob.id, bundle);
    expect(await bob.device.decryptFirst(alice.device.address, await alice.device.encrypt(to, 'hi'))).toBe('hi');
  });
});

describe('UploadKeys refuses', () => {
  it('a first upload without the signed prekey or the last-resort key, and a call without a token', async () => {
    const bob = await ks.account();
    const { pqLastResortPreKey: _l, ...noLastResort } = bob.device.firstUpload();
    expect(await uploadError(bob, noLastResort)).toEqual([Code.InvalidArgument, 'the first upload needs identity_key, signed_pre_key and pq_last_resort_pre_key']);
    expect((await connectErrorOf(ks.keys.uploadKeys(bob.device.firstUpload()))).code).toBe(Code.Unauthenticated);
    expect((await connectErrorOf(ks.keys.getPreKeyCounts({}))).code).toBe(Code.Unauthenticated);
  });

  it('every forged signature, naming the key', async () => {
    const bob = await ks.account();
    const mallory = new SignalDevice(bob.id, 1, 1);
    const upload = () => bob.device.firstUpload(2, 3);

    const signed = upload();
    signed.signedPreKey = mallory.signedPreKey(signed.signedPreKey.keyId);
    expect(await uploadError(bob, signed)).toEqual([
      Code.InvalidArgument,
      `signature of signed_pre_key (key id ${signed.signedPreKey.keyId}) does not verify against identity_key`,
    ]);

    const lastResort = upload();
    lastResort.pqLastResortPreKey = mallory.kyberPreKey(lastResort.pqLastResortPreKey.keyId);
    expect(await uploadError(bob, lastResort)).toEqual([
      Code.InvalidArgument,
      `signature of pq_last_resort_pre_key (key id ${lastResort.pqLastResortPreKey.keyId}) does not verify against identity_key`,
    ]);

    const oneTime = upload();
    oneTime.pqPreKeys[2] = mallory.kyberPreKey(oneTime.pqPreKeys[2]!.keyId);
    expect(await uploadError(bob, oneTime)).toEqual([
      Code.InvalidArgument,
      `signature of pq_pre_keys[2] (key id ${oneTime.pqPreKeys[2]!.keyId}) does not verify against identity_key`,
    ]);

    // A genuine signature over other bytes: the key was swapped after signing.
    const swapped = upload();
    swapped.pqPreKeys[0] = { ...swapped.pqPreKeys[0]!, publicKey: swapped.pqPreKeys[1]!.publicKey };
    expect(await uploadError(bob, swapped)).toEqual([
      Code.InvalidArgument,
      `signature of pq_pre_keys[0] (key id ${swapped.pqPreKeys[0]!.keyId}) does not verify against identity_key`,
    ]);

    const badKey = upload();
    badKey.identityKey = badKey.identityKey.slice(1);
    const [code, message] = await uploadError(bob, badKey);
    expect([code, message]).toEqual([Code.InvalidArgument, expect.stringContaining('identity_key')]);
    // Nothing was stored by any of them.
    expect((await ks.keys.getPreKeyCounts({}, bob.as)).counts).toEqual(expect.objectContaining({ preKeys: 0, pqPreKeys: 0 }));
    expect(await ks.stack.query('keys', 'select 1 from device_keys where user_id = $1', [bob.id])).toEqual([]);
  });

  it('repeated key ids, within an upload (INVALID_ARGUMENT) or against stored keys (ALREADY_EXISTS)', async () => {
    const bob = await ks.account();
    const first = bob.device.firstUpload(2, 2);
    const repeated = { ...first, preKeys: [first.preKeys[0]!, first.preKeys[0]!] };
    expect(await uploadError(bob, repeated)).toEqual([Code.InvalidArgument, `pre_keys[1] repeats key id ${first.preKeys[0]!.keyId}`]);
    const clash = { ...first, pqPreKeys: [bob.device.kyberPreKey(first.pqLastResortPreKey.keyId)] };
    expect(await uploadError(bob, clash)).toEqual([
      Code.InvalidArgument,
      `pq_pre_keys[0] has the key id of pq_last_resort_pre_key (${first.pqLastResortPreKey.keyId})`,
    ]);
    await ks.keys.uploadKeys(first, bob.as);

    const again = { identityKey: bob.device.identityKey, preKeys: [bob.device.preKey(), first.preKeys[1]!], pqPreKeys: [] };
    expect(await uploadError(bob, again)).toEqual([Code.AlreadyExists, `pre_keys[1]: key id ${first.preKeys[1]!.keyId} is already stored for this device`]);
    const kyberAgain = { identityKey: bob.device.identityKey, preKeys: [], pqPreKeys: [first.pqPreKeys[0]!] };
    expect(await uploadError(bob, kyberAgain)).toEqual([
      Code.AlreadyExists,
      `pq_pre_keys[0]: key id ${first.pqPreKeys[0]!.keyId} is already stored for this device`,
    ]);
    const lastResortId = { identityKey: bob.device.identityKey, preKeys: [], pqPreKeys: [bob.device.kyberPreKey(first.pqLastResortPreKey.keyId)] };
    expect(await uploadError(bob, lastResortId)).toEqual([
      Code.AlreadyExists,
      `pq_pre_keys[0]: key id ${first.pqLastResortPreKey.keyId} is the device's last-resort Kyber prekey`,
    ]);
  });

  it('more than 100 one-time keys of a kind per upload, or more than the device may store', async () => {
    const bob = await ks.account();
    expect(await uploadError(bob, bob.device.firstUpload(101))).toEqual([Code.InvalidArgument, 'at most 100 pre_keys per upload (got 101)']);
    await ks.keys.uploadKeys(bob.device.firstUpload(100), bob.as);
    const more = { identityKey: bob.device.identityKey, preKeys: Array.from({ length: 51 }, () => bob.device.preKey()), pqPreKeys: [] };
    expect(await uploadError(bob, more)).toEqual([
      Code.ResourceExhausted,
      'this device would hold 151 one-time EC prekeys; at most 150 may be stored',
    ]);
    more.preKeys.pop();
    expect((await ks.keys.uploadKeys(more, bob.as)).counts?.preKeys).toBe(150);
  });

  it('a device keys has not heard of yet', async () => {
    const bob = await ks.account();
    // As if auth.device.added were still on its way.
    await ks.stack.query('keys', 'delete from device_projection where user_id = $1', [bob.id]);
    expect(await uploadError(bob, bob.device.firstUpload())).toEqual([Code.FailedPrecondition, 'device not known yet; retry shortly']);
  });
});

describe('identity changes', () => {
  it('drop the old prekeys, are announced, and append to the log, which stays consistent', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    await ks.keys.uploadKeys(bob.device.firstUpload(5, 5), bob.as);
    const before = (await ks.keys.getTreeHead({}, alice.as)).treeHead!;
    const changes = await recordEvents(ks.stack, events.identityKeyChanged);
    try {
      // Signed by the identity about to be replaced: refused against the new one.
      const staleSigned = bob.device.signedPreKey();
      bob.device.identity = IdentityKeyPair.generate();
      expect(await uploadError(bob, { identityKey: bob.device.identityKey, preKeys: [], pqPreKeys: [] })).toEqual([
        Code.InvalidArgument,
        'a new identity_key needs a new signed_pre_key and pq_last_resort_pre_key in the same upload',
      ]);
      expect(await uploadError(bob, { ...bob.device.firstUpload(), signedPreKey: staleSigned })).toEqual([
        Code.InvalidArgument,
        `signature of signed_pre_key (key id ${staleSigned.keyId}) does not verify against identity_key`,
      ]);

      const up = await ks.keys.uploadKeys(bob.device.firstUpload(), bob.as);
      expect([up.identityChanged, up.counts?.preKeys, up.counts?.pqPreKeys]).toEqual([true, 0, 0]);
      await eventually(async () => changes.seen.length, (n) => n === 1);
      expect(changes.seen[0]).toEqual(expect.objectContaining({ userId: bob.id, deviceId: 1 }));
      expect(Buffer.from(changes.seen[0]!.identityKey)).toEqual(Buffer.from(bob.device.identityKey));
    } finally {
      await changes.close();
    }

    const bundle = await claim(alice, bob);
    expect(Buffer.from(bundle.identityKey)).toEqual(Buffer.from(bob.device.identityKey));
    const proof = bundle.identityKeyProof!;
    expect(Number(proof.leafIndex)).toBeGreaterThanOrEqual(Number(before.treeSize));
    const { treeHead: after } = await ks.keys.getTreeHead({}, alice.as);
    const { proof: consistency } = await ks.keys.getConsistencyProof({ fromSize: before.treeSize, toSize: after!.treeSize }, alice.as);
    expect(
      verifyConsistency({
        fromSize: Number(before.treeSize),
        toSize: Number(after!.treeSize),
        fromRoot: before.rootHash,
        toRoot: after!.rootHash,
        proof: consistency,
      }),
    ).toBe(true);
    // Re-uploading the same identity appends nothing.
    await ks.keys.uploadKeys({ identityKey: bob.device.identityKey, preKeys: [bob.device.preKey()], pqPreKeys: [] }, bob.as);
    expect((await ks.keys.getTreeHead({}, alice.as)).treeHead!.treeSize).toBe(after!.treeSize);
  });

  it('GetConsistencyProof wants 0 < from_size <= to_size <= the log size', async () => {
    const alice = await ks.account();
    const size = (await ks.keys.getTreeHead({}, alice.as)).treeHead!.treeSize;
    const refused = async (fromSize: bigint, toSize: bigint) => {
      const err = await connectErrorOf(ks.keys.getConsistencyProof({ fromSize, toSize }, alice.as));
      return [err.code, err.rawMessage];
    };
    expect(await refused(0n, size)).toEqual([Code.InvalidArgument, 'invalid request: from_size: must be greater than or equal to 1 and less than 9223372036854775808 [uint64.gte_lt]']);
    expect(await refused(2n, 1n)).toEqual([Code.InvalidArgument, 'from_size (2) must not exceed to_size (1)']);
    expect(await refused(1n, size + 1n)).toEqual([Code.InvalidArgument, `to_size (${size + 1n}) exceeds the log's size (${size})`]);
  });
});

describe('claims', () => {
  it('are rate limited per requester and target', async () => {
    const alice = await ks.account();
    const bob = await ks.account();
    const carol = await ks.account();
    for (const who of [bob, carol]) await ks.keys.uploadKeys(who.device.firstUpload(), who.as);
    for (let i = 0; i < 3; i++) await claim(alice, bob);
    const err = await connectErrorOf(ks.keys.getPreKeyBundles({ userId: bob.id, deviceId: 1 }, alice.as));
    expect([err.code, err.rawMessage]).toEqual([Code.ResourceExhausted, expect.stringMatching(/^too many key requests for this user; retry in \d+ s$/)]);
    // Another target, or another requester, has its own budget.
    await claim(alice, carol);
    await claim(carol, bob);
  });
});
