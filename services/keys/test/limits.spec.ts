import { Code } from '@connectrpc/connect';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { connectErrorOf } from '@parley/testing';
import { startKeysStack, type Account, type KeysStack } from './support/keys-stack.js';

jest.setTimeout(120_000);

const UPLOADS = 6;
const IDENTITY_CHANGES = 2;
const PROOFS = 2;
const CLAIMS_PER_REQUESTER = 3;

let ks: KeysStack;

beforeAll(async () => {
  // Buckets refill slowly (an hour, a day), so a test's calls all fall in the burst.
  ks = await startKeysStack({
    UPLOADS_PER_CALLER: String(UPLOADS),
    UPLOADS_PER_CALLER_REFILL_SECONDS: '3600',
    IDENTITY_KEY_CHANGES_PER_DEVICE_PER_DAY: String(IDENTITY_CHANGES),
    CONSISTENCY_PROOFS_PER_CALLER: String(PROOFS),
    CONSISTENCY_PROOFS_PER_CALLER_REFILL_SECONDS: '3600',
    PREKEY_CLAIMS_PER_REQUESTER: String(CLAIMS_PER_REQUESTER),
    PREKEY_CLAIMS_PER_REQUESTER_REFILL_SECONDS: '3600',
  });
});

afterAll(() => ks?.cleanup());

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    async (err: unknown) => {
      const e = await connectErrorOf(Promise.reject(err as Error));
      return `${Code[e.code]}: ${e.rawMessage.replace(/retry in \d+ s/, 'retry in N s')}`;
    },
  );

/** An upload with a fresh identity key: an identity change once the device has keys. */
const newIdentity = (a: Account) => {
  a.device.identity = IdentityKeyPair.generate();
  return ks.keys.uploadKeys(a.device.firstUpload(1, 1), a.as);
};

describe('UploadKeys per caller', () => {
  it('refuses the upload past the burst, before checking its signatures', async () => {
    const alice = await ks.account();
    const outcomes = [await outcome(ks.keys.uploadKeys(alice.device.firstUpload(1, 1), alice.as))];
    for (let i = 1; i < UPLOADS; i++) outcomes.push(await outcome(ks.keys.uploadKeys({ identityKey: alice.device.identityKey, preKeys: [alice.device.preKey()] }, alice.as)));
    outcomes.push(await outcome(ks.keys.uploadKeys({ identityKey: alice.device.identityKey, preKeys: [alice.device.preKey()] }, alice.as)));
    // An upload whose signature is bad is refused for the limit: the signature checks are what it protects.
    const badlySigned = alice.device.firstUpload(1, 1);
    badlySigned.signedPreKey = { ...badlySigned.signedPreKey, signature: new Uint8Array(badlySigned.signedPreKey.signature.length) };
    outcomes.push(await outcome(ks.keys.uploadKeys(badlySigned, alice.as)));
    expect(outcomes).toEqual([...Array(UPLOADS).fill('ok'), 'ResourceExhausted: too many key uploads; retry in N s', 'ResourceExhausted: too many key uploads; retry in N s']);
    // Another account is not limited by Alice's uploads.
    const bob = await ks.account();
    expect(await outcome(ks.keys.uploadKeys(bob.device.firstUpload(1, 1), bob.as))).toBe('ok');
  });
});

describe('identity-key changes per device', () => {
  it('allow a few a day; the next is refused and appends nothing to the identity log', async () => {
    const alice = await ks.account();
    await ks.keys.uploadKeys(alice.device.firstUpload(1, 1), alice.as);
    const outcomes = [];
    for (let i = 0; i < IDENTITY_CHANGES; i++) outcomes.push(await outcome(newIdentity(alice)));
    const size = (await ks.keys.getTreeHead({}, alice.as)).treeHead!.treeSize;
    outcomes.push(await outcome(newIdentity(alice)));
    expect(outcomes).toEqual([...Array(IDENTITY_CHANGES).fill('ok'), 'ResourceExhausted: too many identity key changes for this device; retry in N s']);
    expect((await ks.keys.getTreeHead({}, alice.as)).treeHead!.treeSize).toBe(size);
    // Each device has its own budget.
    const laptop = await ks.link(alice);
    await ks.keys.uploadKeys(laptop.device.firstUpload(1, 1), laptop.as);
    expect(await outcome(newIdentity(laptop))).toBe('ok');
  });
});

describe('GetConsistencyProof per caller', () => {
  it('refuses the call past the burst', async () => {
    const alice = await ks.account();
    await ks.keys.uploadKeys(alice.device.firstUpload(), alice.as);
    const outcomes = [];
    for (let i = 0; i <= PROOFS; i++) outcomes.push(await outcome(ks.keys.getConsistencyProof({ fromSize: 1n, toSize: 1n }, alice.as)));
    expect(outcomes).toEqual([...Array(PROOFS).fill('ok'), 'ResourceExhausted: too many consistency proof requests; retry in N s']);
  });
});

describe('prekey claims per requester, across targets', () => {
  it('stop one account draining many: the claim past the burst is refused whatever its target, and others still claim', async () => {
    const targets = await Promise.all(Array.from({ length: CLAIMS_PER_REQUESTER + 1 }, () => ks.account()));
    for (const t of targets) await ks.keys.uploadKeys(t.device.firstUpload(2, 2), t.as);
    const mallory = await ks.account();
    const outcomes = [];
    for (const t of targets) outcomes.push(await outcome(ks.keys.getPreKeyBundles({ userId: t.id, deviceId: 0 }, mallory.as)));
    expect(outcomes).toEqual([...Array(CLAIMS_PER_REQUESTER).fill('ok'), 'ResourceExhausted: too many key requests; retry in N s']);
    const carol = await ks.account();
    expect(await outcome(ks.keys.getPreKeyBundles({ userId: targets.at(-1)!.id, deviceId: 0 }, carol.as))).toBe('ok');
  });

  it('hold for concurrent claims of one requester that go in one batch', async () => {
    const targets = await Promise.all(Array.from({ length: CLAIMS_PER_REQUESTER + 2 }, () => ks.account()));
    for (const t of targets) await ks.keys.uploadKeys(t.device.firstUpload(2, 2), t.as);
    const mallory = await ks.account();
    const outcomes = await Promise.all(targets.map((t) => outcome(ks.keys.getPreKeyBundles({ userId: t.id, deviceId: 0 }, mallory.as))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(CLAIMS_PER_REQUESTER);
  });
});
