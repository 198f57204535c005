import { pageSize, rpcError, sqlRows, type Caller } from '@parley/platform';
import type { MessagingDeps } from '../deps.js';
import type { StoredItem } from './stored-item.entity.js';

export const MAX_KEY_LENGTH = 128;
const KEY = new RegExp(`^[A-Za-z0-9._-]{1,${MAX_KEY_LENGTH}}$`);

function requireKey(key: string, field = 'key'): string {
  if (!KEY.test(key)) throw rpcError.invalidArgument(`${field} must be 1 to ${MAX_KEY_LENGTH} characters of A-Z a-z 0-9 . _ -`);
  return key;
}

/** A row as sqlRows returns it: bigint and timestamptz as text. */
interface ItemRow {
  key: string;
  value: Buffer;
  version: string;
  updated_at: string;
}

const toItem = (userId: string, r: ItemRow): StoredItem => ({ userId, key: r.key, value: r.value, version: Number(r.version), updatedAt: new Date(r.updated_at) });

/**
 * Creates or replaces one of the caller's items. Puts by one user are serialised by a per-user
 * advisory lock, so the count check and a concurrent new key can't both pass the limit.
 */
export async function putItem(deps: MessagingDeps, caller: Caller, input: { key: string; value: Uint8Array; expectedVersion?: bigint }): Promise<StoredItem> {
  const key = input.key;
  const max = deps.settings.storageMaxItemBytes;
  if (input.value.length > max) throw rpcError.resourceExhausted(`an item's value is at most ${max} bytes; this one has ${input.value.length}`);
  return deps.orm.em.fork().transactional(async (em) => {
    await sqlRows(em, `select pg_advisory_xact_lock(hashtext('stored_item'), hashtext(?::text))`, [caller.userId]);
    const existing = await sqlRows<{ version: string }>(em, `select version from stored_item where user_id = ? and key = ?`, [caller.userId, key]);
    const version = existing.length ? BigInt(existing[0]!.version) : 0n;
    if (input.expectedVersion !== undefined && input.expectedVersion !== version) {
      throw rpcError.failedPrecondition(
        version === 0n ? `item ${key} does not exist, so it is not at version ${input.expectedVersion}` : `item ${key} is at version ${version}, not ${input.expectedVersion}`,
      );
    }
    if (!existing.length) {
      const [{ n }] = (await sqlRows<{ n: number }>(em, `select count(*)::int as n from stored_item where user_id = ?`, [caller.userId])) as [{ n: number }];
      const limit = deps.settings.storageMaxItems;
      if (n >= limit) throw rpcError.resourceExhausted(`you already store ${limit} items, the most allowed: delete one first`);
    }
    const [row] = (await sqlRows<ItemRow>(
      em,
      `insert into stored_item (user_id, key, value, version, updated_at) values (?, ?, ?, 1, now())
       on conflict (user_id, key) do update set value = excluded.value, version = stored_item.version + 1, updated_at = excluded.updated_at
       returning key, value, version, updated_at`,
      [caller.userId, key, Buffer.from(input.value)],
    )) as [ItemRow];
    return toItem(caller.userId, row);
  });
}

export async function getItem(deps: MessagingDeps, caller: Caller, input: { key: string }): Promise<StoredItem> {
  const key = input.key;
  const rows = await sqlRows<ItemRow>(deps.orm.em.fork(), `select key, value, version, updated_at from stored_item where user_id = ? and key = ?`, [caller.userId, key]);
  if (!rows.length) throw rpcError.notFound(`you have no item with key ${key}`);
  return toItem(caller.userId, rows[0]!);
}

/** The caller's items in byte order of their keys; the page token is the last key of the previous page. */
export async function listItems(deps: MessagingDeps, caller: Caller, input: { pageSize: number; pageToken: string }): Promise<{ items: StoredItem[]; nextPageToken: string }> {
  const size = pageSize(input.pageSize);
  const after = input.pageToken ? requireKey(input.pageToken, 'page_token') : '';
  const rows = await sqlRows<ItemRow>(deps.orm.em.fork(), `select key, value, version, updated_at from stored_item where user_id = ? and key collate "C" > ? order by key collate "C" limit ?`, [caller.userId, after, size + 1]);
  const items = rows.slice(0, size).map((r) => toItem(caller.userId, r));
  return { items, nextPageToken: rows.length > size ? items[items.length - 1]!.key : '' };
}

export async function deleteItem(deps: MessagingDeps, caller: Caller, input: { key: string }): Promise<{ deleted: boolean }> {
  const key = input.key;
  const rows = await sqlRows(deps.orm.em.fork(), `delete from stored_item where user_id = ? and key = ? returning key`, [caller.userId, key]);
  return { deleted: rows.length > 0 };
}
