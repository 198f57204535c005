import type { EntityManager } from '@mikro-orm/postgresql';

export interface PreKeyCounts {
  preKeys: number;
  pqPreKeys: number;
}

/** One-time prekeys a device has left (the last-resort key is not counted). */
export async function preKeyCounts(em: EntityManager, userId: string, deviceId: number): Promise<PreKeyCounts> {
  const [row] = (await em.execute(
    `select (select count(*) from ec_pre_key where user_id = ? and device_id = ?)::int as pre_keys,
            (select count(*) from kyber_pre_key where user_id = ? and device_id = ?)::int as pq_pre_keys`,
    [userId, deviceId, userId, deviceId],
  )) as [{ pre_keys: number; pq_pre_keys: number }];
  return { preKeys: row.pre_keys, pqPreKeys: row.pq_pre_keys };
}
