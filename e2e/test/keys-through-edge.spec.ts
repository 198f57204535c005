import { clone } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Code, type Client } from '@connectrpc/connect';
import { cryptoReady, isFork, signTreeHead, verifyConsistency, verifyIdentityKeyInclusion, verifyTreeHead, type TreeHead } from '@parley/crypto';
import {
  KeyService,
  UploadKeysRequestSchema,
  type PreKeyBundle,
  type SignedTreeHead,
  type UploadKeysRequest,
  type UploadKeysResponse,
} from '@parley/proto';
import { connectErrorOf, edgeClient, startTestStack, untilDevicesKnown, type TestStack } from '@parley/testing';
import { CiphertextMessageType, IdentityKeyPair, PreKeySignalMessage } from '@signalapp/libsignal-client';
import { linkWithPassword, signUp, type EdgeDevice } from './support/accounts.js';
import { SignalDevice } from './support/signal-client.js';

let stack: TestStack;

beforeAll(async () => {
  await cryptoReady();
  stack = await startTestStack();
});

afterAll(() => stack?.cleanup());

/** A signed-in Parley device with its libsignal keys and a KeyService client through the edge. */
interface KeyHolder {
  account: EdgeDevice;
  signal: SignalDevice;
  keys: Client<typeof KeyService>;
}

function keyHolder(account: EdgeDevice): KeyHolder {
  return {
    account,
    signal: new SignalDevice(account.userId, account.deviceId, account.registrationId, account.identity),
    keys: edgeClient(KeyService, stack.edgeUrl, { accessToken: account.tokens.accessToken }),
  };
}

/**
 * Uploads once keys knows the device: it learns devices from the auth.device.added events, so until
 * then an upload fails with FAILED_PRECONDITION.
 */
async function upload(holder: KeyHolder, request: UploadKeysRequest): Promise<UploadKeysResponse> {
  await untilDevicesKnown(stack, 'keys', [holder.account]);
  return holder.keys.uploadKeys(request);
}

async function withKeys(account: EdgeDevice, counts = { preKeys: 5, pqPreKeys: 5 }): Promise<KeyHolder> {
  const holder = keyHolder(account);
  await upload(holder, holder.signal.uploadRequest(counts));
  return holder;
}

const byDevice = (bundles: PreKeyBundle[]) => [...bundles].sort((a, b) => a.deviceId - b.deviceId);

/** The shape of a bundle, without its key bytes. */
function summary(b: PreKeyBundle) {
  return {
    deviceId: b.deviceId,
    registrationId: b.registrationId,
    signedPreKeyId: b.signedPreKey?.keyId,
    pqPreKeyId: b.pqPreKey?.keyId,
    pqPreKeyIsLastResort: b.pqPreKeyIsLastResort,
    preKeyId: b.preKey?.keyId,
  };
}

/** A signed tree head as the wire carries it, in the form @parley/crypto checks. */
function treeHeadOf(head: SignedTreeHead): TreeHead {
  return { treeSize: Number(head.treeSize), rootHash: head.rootHash, timestampMs: timestampMs(head.timestamp!) };
}

/** What a client checks: does the bundle's proof put (userId, deviceId, identityKey) in the log that logPublicKey signs? */
function inLog(userId: string, bundle: PreKeyBundle, logPublicKey: Uint8Array): boolean {
  const proof = bundle.identityKeyProof!;
  return verifyIdentityKeyInclusion({
    userId,
    deviceId: bundle.deviceId,
    identityKey: bundle.identityKey,
    leafIndex: Number(proof.leafIndex),
    auditPath: proof.auditPath,
    head: treeHeadOf(proof.treeHead!),
    signature: proof.treeHead!.signature,
    logPublicKey,
  });
}

/** What a client checks before trusting a newer head: both heads are the log's, and the newer extends the older. */
function extendsLog(from: SignedTreeHead, to: SignedTreeHead, proof: Uint8Array[], logPublicKey: Uint8Array): boolean {
  const [a, b] = [treeHeadOf(from), treeHeadOf(to)];
  return (
    verifyTreeHead(a, from.signature, logPublicKey) &&
    verifyTreeHead(b, to.signature, logPublicKey) &&
    verifyConsistency({ fromSize: a.treeSize, toSize: b.treeSize, fromRoot: a.rootHash, toRoot: b.rootHash, proof })
  );
}

/** A copy with one bit changed. */
const flipped = (b: Uint8Array): Uint8Array => {
  const copy = new Uint8Array(b);
  copy[0] = copy[0]! ^ 1;
  return copy;
};

describe('PQXDH through the key directory', () => {
  it("Alice fetches both of Bob's devices' bundles, starts libsignal sessions and each device decrypts its message", async () => {
    const alice = await withKeys(await signUp(stack, 'alice'));
    const bobPhone = await signUp(stack, 'bob');
    const bobLaptop = await linkWithPassword(stack, bobPhone, 'Laptop');
    const bob = [await withKeys(bobPhone), await withKeys(bobLaptop)];

    const { bundles } = await alice.keys.getPreKeyBundles({ userId: bobPhone.userId, deviceId: 0 });
    const sorted = byDevice(bundles);
    expect(sorted.map(summary)).toEqual(
      bob.map((b) => ({
        deviceId: b.account.deviceId,
        registrationId: b.signal.registrationId,
        signedPreKeyId: [...b.signal.signedPreKeys.records.keys()][0],
        pqPreKeyId: expect.any(Number),
        pqPreKeyIsLastResort: false,
        preKeyId: expect.any(Number),
      })),
    );
    // Byte for byte what each device uploaded.
    sorted.forEach((bundle, i) => expect(bundle.identityKey).toEqual(bob[i]!.signal.identity.publicKey.serialize()));

    for (const [i, bundle] of sorted.entries()) {
      const recipient = bob[i]!;
      const address = await alice.signal.processBundle(bobPhone.userId, bundle);
      const text = `hello, Bob's device ${bundle.deviceId}`;
      const ciphertext = await alice.signal.encrypt(address, text);
      expect(ciphertext.type).toBe(CiphertextMessageType.PreKey);
      const message = PreKeySignalMessage.deserialize(ciphertext.body);
      expect([message.preKeyId(), message.signedPreKeyId(), message.registrationId()]).toEqual([
        bundle.preKey!.keyId,
        bundle.signedPreKey!.keyId,
        alice.signal.registrationId,
      ]);

      expect(await recipient.signal.decrypt(alice.signal.address, ciphertext)).toBe(text);
      // The one-time keys the session used are gone from the device, as libsignal does it.
      expect(recipient.signal.preKeys.records.has(bundle.preKey!.keyId)).toBe(false);
      expect(recipient.signal.kyberPreKeys.records.has(bundle.pqPreKey!.keyId)).toBe(false);

      // The session works both ways.
      const reply = await recipient.signal.encrypt(alice.signal.address, 'hi Alice');
      expect(reply.type).toBe(CiphertextMessageType.Whisper);
      expect(await alice.signal.decrypt(address, reply)).toBe('hi Alice');
    }

    // Each of Bob's devices gave up one one-time key of each kind.
    for (const b of bob) expect((await b.keys.getPreKeyCounts({})).counts).toMatchObject({ preKeys: 4, pqPreKeys: 4 });
  });

  it('with no one-time keys left, the bundle carries the last-resort Kyber key and no EC prekey, and still makes a session', async () => {
    const alice = await withKeys(await signUp(stack, 'alice'));
    const bob = await withKeys(await signUp(stack, 'bob'), { preKeys: 0, pqPreKeys: 0 });
    const [bundle] = (await alice.keys.getPreKeyBundles({ userId: bob.account.userId, deviceId: 1 })).bundles;
    expect(bundle!.preKey).toBeUndefined();
    expect(bundle!.pqPreKeyIsLastResort).toBe(true);
    expect(bob.signal.kyberPreKeys.lastResort.has(bundle!.pqPreKey!.keyId)).toBe(true);

    const address = await alice.signal.processBundle(bob.account.userId, bundle!);
    const ciphertext = await alice.signal.encrypt(address, 'last resort');
    expect(ciphertext.type).toBe(CiphertextMessageType.PreKey);
    expect(await bob.signal.decrypt(alice.signal.address, ciphertext)).toBe('last resort');
  });
});

describe('the identity key log', () => {
  it("proves each bundle's identity key is in the log, and that a later log extends an earlier one", async () => {
    const alice = await withKeys(await signUp(stack, 'alice'));
    const bobPhone = await signUp(stack, 'bob');
    const bobLaptop = await linkWithPassword(stack, bobPhone, 'Laptop');
    await withKeys(bobPhone);
    await withKeys(bobLaptop);

    const { treeHead: earlier, logPublicKey } = await alice.keys.getTreeHead({});
    const { bundles } = await alice.keys.getPreKeyBundles({ userId: bobPhone.userId, deviceId: 0 });
    expect(bundles).toHaveLength(2);
    for (const bundle of bundles) {
      expect(inLog(bobPhone.userId, bundle, logPublicKey)).toBe(true);
      // The proof is for this user and device and key only.
      expect(inLog(alice.account.userId, bundle, logPublicKey)).toBe(false);
      expect(inLog(bobPhone.userId, { ...bundle, deviceId: bundle.deviceId === 1 ? 2 : 1 }, logPublicKey)).toBe(false);
      expect(inLog(bobPhone.userId, { ...bundle, identityKey: alice.signal.identity.publicKey.serialize() }, logPublicKey)).toBe(false);
      // A tampered audit path, or a head signed by another log key, does not verify.
      const proof = bundle.identityKeyProof!;
      expect(proof.auditPath.length).toBeGreaterThan(0);
      const tamperedPath = proof.auditPath.map((h, j) => (j === 0 ? flipped(h) : h));
      expect(inLog(bobPhone.userId, { ...bundle, identityKeyProof: { ...proof, auditPath: tamperedPath } }, logPublicKey)).toBe(false);
      expect(inLog(bobPhone.userId, { ...bundle, identityKeyProof: { ...proof, leafIndex: proof.leafIndex + 1n } }, logPublicKey)).toBe(false);
      expect(inLog(bobPhone.userId, bundle, flipped(logPublicKey))).toBe(false);
    }

    // More identity keys join the log.
    await withKeys(await signUp(stack, 'carol'));
    const { treeHead: later } = await alice.keys.getTreeHead({});
    expect(later!.treeSize).toBeGreaterThan(earlier!.treeSize);

    const { proof } = await alice.keys.getConsistencyProof({ fromSize: earlier!.treeSize, toSize: later!.treeSize });
    expect(extendsLog(earlier!, later!, proof, logPublicKey)).toBe(true);

    // A tampered proof is detected, element by element, and so is a shortened one.
    expect(proof.length).toBeGreaterThan(0);
    for (let i = 0; i < proof.length; i++) {
      expect(extendsLog(earlier!, later!, proof.map((h, j) => (i === j ? flipped(h) : h)), logPublicKey)).toBe(false);
    }
    expect(extendsLog(earlier!, later!, proof.slice(1), logPublicKey)).toBe(false);
    // A head whose root was changed after signing fails its signature.
    expect(extendsLog(earlier!, { ...later!, rootHash: flipped(later!.rootHash) }, proof, logPublicKey)).toBe(false);

    // A forked log: the log key itself signs a second head of the same size with another root. Its
    // signature is good, but it does not extend what the client saw earlier, and beside the real
    // head of that size it is proof of the fork.
    const logSecretKey = Buffer.from(stack.services.keys.env.KEYS_LOG_SIGNING_KEY!, 'base64');
    const forkHead = { ...treeHeadOf(later!), rootHash: flipped(later!.rootHash) };
    const fork: SignedTreeHead = { ...later!, rootHash: forkHead.rootHash, signature: signTreeHead(forkHead, logSecretKey) };
    expect(verifyTreeHead(forkHead, fork.signature, logPublicKey)).toBe(true);
    expect(extendsLog(earlier!, fork, proof, logPublicKey)).toBe(false);
    expect(isFork(treeHeadOf(later!), forkHead)).toBe(true);
    expect(isFork(treeHeadOf(later!), treeHeadOf((await alice.keys.getTreeHead({})).treeHead!))).toBe(false);
  });
});

describe('signatures', () => {
  type Forge = (req: UploadKeysRequest, forger: IdentityKeyPair) => string;
  /** Replaces one key's signature with a well-formed one by another identity key; returns how the refusal should name the key. */
  const forging =
    (pick: (req: UploadKeysRequest) => { keyId: number; publicKey: Uint8Array; signature: Uint8Array }, field: string): Forge =>
    (req, forger) => {
      const key = pick(req);
      key.signature = forger.privateKey.sign(new Uint8Array(key.publicKey));
      return `${field} (key id ${key.keyId})`;
    };
  const forgeries: [string, Forge][] = [
    ['the signed prekey', forging((req) => req.signedPreKey!, 'signed_pre_key')],
    ['a one-time Kyber prekey', forging((req) => req.pqPreKeys[1]!, 'pq_pre_keys[1]')],
    ['the last-resort Kyber prekey', forging((req) => req.pqLastResortPreKey!, 'pq_last_resort_pre_key')],
  ];

  it.each(forgeries)('refuses an upload whose signature over %s is not by the identity key, and keeps none of it', async (_what, forge) => {
    const dave = keyHolder(await signUp(stack, 'dave'));
    const genuine = dave.signal.uploadRequest({ preKeys: 3, pqPreKeys: 3 });
    const forged = clone(UploadKeysRequestSchema, genuine);
    const named = forge(forged, IdentityKeyPair.generate());

    const err = await connectErrorOf(dave.keys.uploadKeys(forged));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain(named);
    expect(err.rawMessage).toMatch(/signature/);

    // Nothing of the refused upload was kept: the genuine one is the device's first, and libsignal
    // builds a session from what it published.
    expect((await upload(dave, genuine)).counts).toMatchObject({ preKeys: 3, pqPreKeys: 3 });
    const alice = await withKeys(await signUp(stack, 'alice'));
    const [bundle] = (await alice.keys.getPreKeyBundles({ userId: dave.account.userId, deviceId: 1 })).bundles;
    expect(bundle!.signedPreKey).toEqual(genuine.signedPreKey);
    const address = await alice.signal.processBundle(dave.account.userId, bundle!);
    expect(await dave.signal.decrypt(alice.signal.address, await alice.signal.encrypt(address, 'signed by Dave'))).toBe('signed by Dave');
  });
});

describe('one-time prekeys', () => {
  it('are never handed out twice, even to concurrent fetches; then the last-resort key stands in', async () => {
    const keyCount = 20;
    const bob = await withKeys(await signUp(stack, 'bob'), { preKeys: keyCount, pqPreKeys: keyCount });
    const fetchers = await Promise.all(['alice', 'carol', 'erin'].map(async (p) => keyHolder(await signUp(stack, p))));

    // 30 claims at once from three users against 20 keys of each kind.
    const claims = await Promise.all(
      Array.from({ length: 30 }, (_, i) => fetchers[i % fetchers.length]!.keys.getPreKeyBundles({ userId: bob.account.userId, deviceId: 1 })),
    );
    const bundles = claims.flatMap((c) => c.bundles);
    expect(bundles).toHaveLength(30);
    const ecIds = bundles.flatMap((b) => (b.preKey ? [b.preKey.keyId] : []));
    const kyberIds = bundles.flatMap((b) => (b.pqPreKeyIsLastResort ? [] : [b.pqPreKey!.keyId]));
    // Every one-time key went to exactly one claim: none twice, none lost.
    expect(new Set(ecIds).size).toBe(ecIds.length);
    expect(new Set(kyberIds).size).toBe(kyberIds.length);
    expect([...ecIds].sort((a, b) => a - b)).toEqual([...bob.signal.preKeys.records.keys()].sort((a, b) => a - b));
    expect([...kyberIds].sort((a, b) => a - b)).toEqual(
      [...bob.signal.kyberPreKeys.records.keys()].filter((id) => !bob.signal.kyberPreKeys.lastResort.has(id)).sort((a, b) => a - b),
    );
    // The other claims got the last-resort Kyber key and no EC prekey: a claim finds "none left"
    // only when none is left, of either kind.
    const lastResorts = bundles.filter((b) => b.pqPreKeyIsLastResort);
    expect(lastResorts).toHaveLength(30 - keyCount);
    for (const b of lastResorts) {
      expect(b.preKey).toBeUndefined();
      expect(bob.signal.kyberPreKeys.lastResort.has(b.pqPreKey!.keyId)).toBe(true);
    }
    expect((await bob.keys.getPreKeyCounts({})).counts).toMatchObject({ preKeys: 0, pqPreKeys: 0 });

    // Fresh keys are handed out next, never an earlier one again.
    const refill = bob.signal.uploadRequest({ preKeys: 2, pqPreKeys: 0 });
    await bob.keys.uploadKeys(refill);
    const again = await fetchers[0]!.keys.getPreKeyBundles({ userId: bob.account.userId, deviceId: 1 });
    expect(refill.preKeys.map((k) => k.keyId)).toContain(again.bundles[0]!.preKey!.keyId);
    expect(ecIds).not.toContain(again.bundles[0]!.preKey!.keyId);
  });
});
