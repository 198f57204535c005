import type { Logger } from 'pino';
import type { NatsConnection } from '../bus/nats.js';
import type { Subjects } from '../bus/subjects.js';
import { events } from '../events/catalog.js';
import { decodeEvent } from '../events/envelope.js';
import type { TokenVerifier } from './access-token.js';

/**
 * Every replica hears of every removed signing key (a plain NATS subscription, not a durable
 * consumer) and its verifier drops the key at once. One missed while the process was down needs
 * nothing: the process fetched the key set fresh when it started. Draining the connection at
 * shutdown ends the subscription.
 */
export function followSigningKeyRemovals(nats: NatsConnection, subjects: Subjects, verifier: TokenVerifier, log: Logger): void {
  nats.subscribe(subjects.of(events.signingKeyRemoved), {
    callback: (err, msg) => {
      if (err) return;
      try {
        const { kid } = decodeEvent(events.signingKeyRemoved, msg.data).payload;
        verifier.dropKey?.(kid);
        log.info({ kid }, 'signing key removed: tokens it signed are refused from now on');
      } catch (e) {
        log.warn({ err: e }, 'ignoring an auth.signing_key.removed event that does not decode');
      }
    },
  });
}
