import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows } from '@parley/platform';

/** The user, as moderation heard of it from auth's events, or NOT_FOUND. */
export async function requireKnownUser(em: EntityManager, userId: string): Promise<{ registered_at: Date }> {
  const [user] = await sqlRows<{ registered_at: Date }>(em, `select registered_at from moderation_user where user_id = ?`, [userId]);
  if (!user) throw rpcError.notFound(`no user with id ${userId}`);
  return user;
}
