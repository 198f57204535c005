import { events, type MikroORM, type Outbox } from '@parley/platform';
import { PublishedSigningKeySchema } from './published-signing-key.entity.js';

/**
 * Run at start-up with the kids this process publishes: a key published before and now absent
 * was removed from the JWKS, so auth.signing_key.removed goes out for it (once, whichever replica
 * starts first) and every verifier drops it at once. Returns the kids found removed.
 */
export async function publishSigningKeyRemovals(orm: MikroORM, outbox: Outbox, publishedKids: readonly string[], now = new Date()): Promise<string[]> {
  return orm.em.fork().transactional(async (em) => {
    // One start-up at a time decides, so two replicas never both announce (or miss) a removal.
    await em.execute('lock table published_signing_key in exclusive mode');
    const known = await em.find(PublishedSigningKeySchema, {});
    const removed = known.filter((k) => !publishedKids.includes(k.kid));
    for (const key of removed) {
      outbox.add(em, events.signingKeyRemoved, { kid: key.kid });
      em.remove(key);
    }
    for (const kid of publishedKids) {
      if (!known.some((k) => k.kid === kid)) em.persist(em.create(PublishedSigningKeySchema, { kid, publishedAt: now }));
    }
    return removed.map((k) => k.kid);
  });
}
