import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows, type Caller } from '@parley/platform';
import { Role } from '@parley/proto';
import type { ModerationDeps } from '../deps.js';
import { appendAudit } from './audit-log.js';
import { requireKnownUser } from './users.js';

const ROLE_NAMES: Record<Exclude<Role, Role.UNSPECIFIED>, string> = { [Role.MODERATOR]: 'moderator', [Role.ADMIN]: 'admin' };
const ROLES_BY_NAME = new Map(Object.entries(ROLE_NAMES).map(([role, name]) => [name, Number(role) as Role]));

export async function rolesOf(em: EntityManager, userId: string): Promise<Role[]> {
  const rows = await sqlRows<{ role: string }>(em, `select role from role_grant where user_id = ? order by role`, [userId]);
  return rows.map((r) => ROLES_BY_NAME.get(r.role)).filter((r): r is Role => r !== undefined);
}

/**
 * The caller's roles, refusing one without `needed` (an admin holds every moderator right). The
 * edge admits only role holders; this checks again, as a service never trusts its caller's path.
 */
export async function requireRole(deps: Pick<ModerationDeps, 'orm'>, caller: Caller, needed: Role.MODERATOR | Role.ADMIN): Promise<void> {
  const roles = await rolesOf(deps.orm.em.fork() as EntityManager, caller.userId);
  if (roles.includes(Role.ADMIN) || roles.includes(needed)) return;
  throw rpcError.permissionDenied(needed === Role.ADMIN ? 'only an admin may do this' : 'only moderators and admins may use ModeratorService');
}

export async function grantRole(deps: Pick<ModerationDeps, 'orm' | 'clock'>, caller: Caller, input: { userId: string; role: Role }): Promise<void> {
  await deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    await requireKnownUser(em, input.userId);
    const at = new Date(deps.clock.now());
    const name = ROLE_NAMES[input.role as Role.MODERATOR];
    const added = await sqlRows(em, `insert into role_grant (user_id, role, granted_by, granted_at) values (?, ?, ?, ?) on conflict do nothing returning 1`, [
      input.userId, name, `user:${caller.userId}`, at,
    ]);
    if (added.length === 0) return;
    await appendAudit(em, at, { actor: `user:${caller.userId}`, action: 'role.granted', subjectUserId: input.userId, reason: name, evidence: '' });
  });
}

/** Takes a role away; the last admin can't be removed, so someone can always grant roles. */
export async function revokeRole(deps: Pick<ModerationDeps, 'orm' | 'clock'>, caller: Caller, input: { userId: string; role: Role }): Promise<void> {
  await deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const at = new Date(deps.clock.now());
    const name = ROLE_NAMES[input.role as Role.MODERATOR];
    await sqlRows(em, `select pg_advisory_xact_lock(hashtext('role_grant'))`);
    const removed = await sqlRows(em, `delete from role_grant where user_id = ? and role = ? returning 1`, [input.userId, name]);
    if (removed.length === 0) throw rpcError.notFound(`user ${input.userId} does not hold the ${name} role`);
    if (input.role === Role.ADMIN) {
      const [left] = await sqlRows(em, `select 1 from role_grant where role = 'admin' limit 1`);
      if (!left) throw rpcError.failedPrecondition('that is the last admin: grant admin to someone else first');
    }
    await appendAudit(em, at, { actor: `user:${caller.userId}`, action: 'role.revoked', subjectUserId: input.userId, reason: name, evidence: '' });
  });
}

/** Makes the configured user admin while there is no admin at all: the first admin comes from config. */
export async function ensureFirstAdmin(deps: Pick<ModerationDeps, 'orm' | 'clock' | 'log' | 'settings'>): Promise<void> {
  const userId = deps.settings.firstAdminUserId;
  if (!userId) return;
  await deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    await sqlRows(em, `select pg_advisory_xact_lock(hashtext('role_grant'))`);
    const [admin] = await sqlRows(em, `select 1 from role_grant where role = 'admin' limit 1`);
    if (admin) return;
    const at = new Date(deps.clock.now());
    await sqlRows(em, `insert into role_grant (user_id, role, granted_by, granted_at) values (?, 'admin', 'config', ?)`, [userId, at]);
    await appendAudit(em, at, { actor: 'system', action: 'role.granted', subjectUserId: userId, reason: 'admin', evidence: 'MODERATION_FIRST_ADMIN_USER_ID' });
    deps.log.info({ userId }, 'granted admin to the first admin from config');
  });
}
