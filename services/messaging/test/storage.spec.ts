import { Code, ConnectError } from '@connectrpc/connect';
import { connectErrorOf, type SignedInDevice } from '@parley/testing';
import { startGroupHarness, type GroupHarness } from './support/group-harness.js';

jest.setTimeout(90_000);

const MAX_ITEMS = 5;
// eslint-disable-next-line no-restricted-syntax -- the least STORAGE_MAX_ITEM_BYTES allows, not the delivery window
const MAX_ITEM_BYTES = 256;
let h: GroupHarness;

beforeAll(async () => {
  h = await startGroupHarness({ STORAGE_MAX_ITEMS: String(MAX_ITEMS), STORAGE_MAX_ITEM_BYTES: String(MAX_ITEM_BYTES) });
});

afterAll(async () => {
  await h?.stop();
});

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

async function putOutcome(d: SignedInDevice, key: string): Promise<'ok' | Code> {
  try {
    await h.storage.putItem({ key, value: bytes(key) }, d.as);
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe('PutItem and GetItem', () => {
  it('stores a value, and every put of the key replaces it and bumps its version', async () => {
    const a = await h.account();
    const first = await h.storage.putItem({ key: 'draft.1', value: bytes('hello') }, a.as);
    expect([first.item?.key, text(first.item?.value), first.item?.version]).toEqual(['draft.1', 'hello', 1n]);
    const second = await h.storage.putItem({ key: 'draft.1', value: bytes('hello again') }, a.as);
    expect(second.item?.version).toBe(2n);
    const got = await h.storage.getItem({ key: 'draft.1' }, a.as);
    expect([text(got.item?.value), got.item?.version]).toEqual(['hello again', 2n]);
    expect(got.item!.updatedAt!.seconds).toBeGreaterThanOrEqual(first.item!.updatedAt!.seconds);
  });

  it('applies a put with expected_version only to that version, 0 meaning the key must not exist', async () => {
    const a = await h.account();
    expect((await h.storage.putItem({ key: 'k', value: bytes('v1'), expectedVersion: 0n }, a.as)).item?.version).toBe(1n);
    const exists = await connectErrorOf(h.storage.putItem({ key: 'k', value: bytes('v?'), expectedVersion: 0n }, a.as));
    expect([exists.code, exists.rawMessage]).toEqual([Code.FailedPrecondition, 'item k is at version 1, not 0']);
    expect((await h.storage.putItem({ key: 'k', value: bytes('v2'), expectedVersion: 1n }, a.as)).item?.version).toBe(2n);
    const stale = await connectErrorOf(h.storage.putItem({ key: 'k', value: bytes('v?'), expectedVersion: 1n }, a.as));
    expect(stale.code).toBe(Code.FailedPrecondition);
    const missing = await connectErrorOf(h.storage.putItem({ key: 'nothing', value: bytes('v'), expectedVersion: 3n }, a.as));
    expect([missing.code, missing.rawMessage]).toEqual([Code.FailedPrecondition, 'item nothing does not exist, so it is not at version 3']);
    expect(text((await h.storage.getItem({ key: 'k' }, a.as)).item?.value)).toBe('v2');
  });

  it('checks keys and value sizes, and needs a token', async () => {
    const a = await h.account();
    for (const [key, rule] of [['', 'required'], ['x'.repeat(129), 'string.max_len'], ['has space', 'string.pattern'], ['slash/key', 'string.pattern'], ['ünï', 'string.pattern']]) {
      const err = await connectErrorOf(h.storage.putItem({ key: key!, value: bytes('v') }, a.as));
      expect([key, err.code, err.rawMessage]).toEqual([key, Code.InvalidArgument, expect.stringMatching(new RegExp(`^invalid request: key: .* \\[${rule!.replace('.', '\\.')}\\]$`))]);
    }
    expect(await putOutcome(a, `A-z_0.9${'x'.repeat(120)}`)).toBe('ok');
    expect((await h.storage.putItem({ key: 'full', value: new Uint8Array(MAX_ITEM_BYTES) }, a.as)).item?.version).toBe(1n);
    const big = await connectErrorOf(h.storage.putItem({ key: 'big', value: new Uint8Array(MAX_ITEM_BYTES + 1) }, a.as));
    expect([big.code, big.rawMessage]).toEqual([Code.ResourceExhausted, `an item's value is at most ${MAX_ITEM_BYTES} bytes; this one has ${MAX_ITEM_BYTES + 1}`]);
    expect((await connectErrorOf(h.storage.getItem({ key: 'full' }))).code).toBe(Code.Unauthenticated);
    const missing = await connectErrorOf(h.storage.getItem({ key: 'never' }, a.as));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, 'you have no item with key never']);
  });
});

describe('the item limit', () => {
  it(`refuses a new key beyond ${MAX_ITEMS} items but lets existing ones be replaced`, async () => {
    const a = await h.account();
    for (let i = 0; i < MAX_ITEMS; i++) expect(await putOutcome(a, `item${i}`)).toBe('ok');
    const over = await connectErrorOf(h.storage.putItem({ key: 'one-more', value: bytes('v') }, a.as));
    expect([over.code, over.rawMessage]).toEqual([Code.ResourceExhausted, `you already store ${MAX_ITEMS} items, the most allowed: delete one first`]);
    expect(await putOutcome(a, 'item0')).toBe('ok');
    expect((await h.storage.deleteItem({ key: 'item1' }, a.as)).deleted).toBe(true);
    expect(await putOutcome(a, 'one-more')).toBe('ok');
  });

  it('lets exactly one of several concurrent new keys take the last free place', async () => {
    const a = await h.account();
    for (let i = 0; i < MAX_ITEMS - 1; i++) expect(await putOutcome(a, `item${i}`)).toBe('ok');
    const outcomes = await Promise.all(['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((key) => putOutcome(a, key)));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === Code.ResourceExhausted)).toHaveLength(5);
    expect((await h.storage.listItems({ pageSize: 100 }, a.as)).items).toHaveLength(MAX_ITEMS);
  });

  it('counts each user separately', async () => {
    const a = await h.account();
    const b = await h.account();
    for (let i = 0; i < MAX_ITEMS; i++) expect(await putOutcome(a, `item${i}`)).toBe('ok');
    expect(await putOutcome(b, 'item0')).toBe('ok');
  });
});

describe('ListItems and DeleteItem', () => {
  it('pages through the items in key order', async () => {
    const a = await h.account();
    const keys = ['b', 'A', 'a.2', 'a-1', 'Z_'];
    for (const key of keys) await h.storage.putItem({ key, value: bytes(key) }, a.as);
    const seen: string[][] = [];
    let pageToken = '';
    do {
      const page = await h.storage.listItems({ pageSize: 2, pageToken }, a.as);
      seen.push(page.items.map((i) => i.key));
      expect(page.items.every((i) => text(i.value) === i.key && i.version === 1n)).toBe(true);
      pageToken = page.nextPageToken;
    } while (pageToken);
    // Byte order of the keys, as a C collation sorts them.
    expect(seen).toEqual([['A', 'Z_'], ['a-1', 'a.2'], ['b']]);
    expect((await h.storage.listItems({}, a.as)).items.map((i) => i.key)).toEqual(['A', 'Z_', 'a-1', 'a.2', 'b']);
    expect((await connectErrorOf(h.storage.listItems({ pageSize: 101 }, a.as))).code).toBe(Code.InvalidArgument);
    expect((await connectErrorOf(h.storage.listItems({ pageToken: 'not a key!' }, a.as))).code).toBe(Code.InvalidArgument);
  });

  it('says whether a delete removed anything', async () => {
    const a = await h.account();
    await h.storage.putItem({ key: 'k', value: bytes('v') }, a.as);
    expect((await h.storage.deleteItem({ key: 'k' }, a.as)).deleted).toBe(true);
    expect((await h.storage.deleteItem({ key: 'k' }, a.as)).deleted).toBe(false);
    expect((await connectErrorOf(h.storage.getItem({ key: 'k' }, a.as))).code).toBe(Code.NotFound);
  });
});

describe('isolation', () => {
  it("shows a user's items to all of their devices and to nobody else", async () => {
    const a = await h.account();
    const laptop = await h.link(a);
    const b = await h.account();
    await h.storage.putItem({ key: 'secret', value: bytes('mine') }, a.as);
    expect(text((await h.storage.getItem({ key: 'secret' }, laptop.as)).item?.value)).toBe('mine');

    expect((await connectErrorOf(h.storage.getItem({ key: 'secret' }, b.as))).code).toBe(Code.NotFound);
    expect((await h.storage.listItems({}, b.as)).items).toEqual([]);
    expect((await h.storage.deleteItem({ key: 'secret' }, b.as)).deleted).toBe(false);
    // b's own item under the same key is b's alone.
    await h.storage.putItem({ key: 'secret', value: bytes('theirs') }, b.as);
    expect(text((await h.storage.getItem({ key: 'secret' }, a.as)).item?.value)).toBe('mine');
    expect((await h.storage.getItem({ key: 'secret' }, a.as)).item?.version).toBe(1n);
  });
});
