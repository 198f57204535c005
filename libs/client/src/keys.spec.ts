import type { Client } from '@connectrpc/connect';
import type { KeyService, UploadKeysRequest } from '@parley/proto';
import { ManualClock } from '@parley/testing';
import type { KeyTransparency } from './key-transparency';
import { KeyManager } from './keys';
import { LibsignalCrypto } from './node/libsignal-crypto';
import { SqliteStore } from './node/sqlite-store';

const DAY = 24 * 60 * 60 * 1000;

function setUp() {
  const clock = new ManualClock();
  const store = new SqliteStore(':memory:');
  const crypto = new LibsignalCrypto(store);
  const uploads: UploadKeysRequest[] = [];
  const keys = {
    uploadKeys: async (req: UploadKeysRequest) => {
      uploads.push(req);
      return { counts: { preKeys: req.preKeys.length, pqPreKeys: req.pqPreKeys.length } };
    },
  } as unknown as Client<typeof KeyService>;
  const manager = new KeyManager(keys, crypto, {} as KeyTransparency, clock, { batchSize: 3, rotationIntervalMs: 2 * DAY });
  return { clock, store, crypto, uploads, manager };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('KeyManager', () => {
  it('publishes the identity, the rotating pair and a batch of one-time prekeys, reporting progress', async () => {
    const { manager, uploads, crypto, store } = setUp();
    const steps: string[] = [];
    await manager.publish((s) => steps.push(`${s.phase} ${s.done}/${s.total}`));
    expect(steps).toEqual(['generating 3/3', 'uploading 3/3', 'done 3/3']);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.identityKey).toEqual(crypto.identityKey());
    expect(uploads[0]!.preKeys).toHaveLength(3);
    expect(uploads[0]!.pqPreKeys).toHaveLength(3);
    expect(uploads[0]!.signedPreKey?.keyId).toBe(crypto.currentSignedPreKeys()?.signedPreKey.keyId);
    store.close();
  });

  it('rotates the signed prekeys when the interval has passed on its clock, and not before', async () => {
    const { manager, uploads, clock, crypto, store } = setUp();
    await manager.publish();
    const first = crypto.currentSignedPreKeys()!.signedPreKey.keyId;
    manager.startRotation((err) => {
      throw err;
    });
    clock.advance(2 * DAY - 1);
    await settle();
    expect(uploads).toHaveLength(1);
    clock.advance(1);
    for (let i = 0; i < 5 && uploads.length < 2; i++) await settle();
    expect(uploads).toHaveLength(2);
    const rotated = uploads[1]!;
    expect(rotated.signedPreKey?.keyId).not.toBe(first);
    expect(rotated.pqLastResortPreKey).toBeDefined();
    expect(rotated.preKeys).toEqual([]);
    expect(crypto.currentSignedPreKeys()!.createdAt).toBe(clock.now());
    // The next rotation is due one interval later.
    expect(clock.pending()).toEqual([2 * DAY]);
    manager.stop();
    expect(clock.pending()).toEqual([]);
    store.close();
  });

  it('tops up once however many PreKeysLow notices arrive at once', async () => {
    const { manager, uploads, store } = setUp();
    await Promise.all([manager.topUp(), manager.topUp(), manager.topUp()]);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.preKeys).toHaveLength(3);
    expect(uploads[0]!.signedPreKey).toBeUndefined();
    store.close();
  });
});
