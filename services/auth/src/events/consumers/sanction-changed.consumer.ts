import type { EntityManager } from '@mikro-orm/postgresql';
import { isBanned, sanctionStandingConsumer } from '@parley/platform';
import type { AuthDeps } from '../../deps.js';
import { revokeSessions } from '../../domain/sessions.js';

/**
 * Keeps each user's standing (logins, refreshes, links and contact requests are checked against
 * it) and, when it is now a ban in force, revokes every live session of the user in the same
 * transaction: auth.session.revoked goes out through the outbox, so every edge refuses their
 * access tokens too. A late or repeated event, or a ban already expired, revokes nothing.
 */
export const sanctionChangedConsumer = (deps: AuthDeps) =>
  sanctionStandingConsumer(async (em, standing) => {
    if (isBanned(standing, deps.sanctions.clock.now())) await revokeSessions(em as EntityManager, deps, standing.userId);
  });
