import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export type { NatsConnection };

export function describeNats(url: string): string {
  const u = new URL(url);
  return `NATS at ${u.hostname}:${u.port || 4222}`;
}

/** Connects once (failing fast at start-up), then reconnects forever, logging each change of state. */
export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 3000 });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') log.warn({ server: s.server }, 'lost NATS; reconnecting');
      else if (s.type === 'reconnect') log.info({ server: s.server }, 'NATS reconnected');
    }
  })();
  return nc;
}
