import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError } from '@connectrpc/connect';
import { startNatsServer, type NatsServer } from '@parley/stack';

/** The ConnectError a call fails with; throws if it succeeds. */
export async function connectErrorOf(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

/** The ConnectError a synchronous call throws, e.g. an input parser; fails if it throws none. */
export function connectErrorThrownBy(call: () => unknown): ConnectError {
  try {
    call();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to throw');
}

export interface ThrowawayNats extends NatsServer {
  /** Stops the server and deletes its store. */
  dispose(): Promise<void>;
}

/** A nats-server of the test's own, on a free port with a fresh store, for tests that stop NATS. */
export async function startThrowawayNats(): Promise<ThrowawayNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'parley-nats-'));
  const server = await startNatsServer({ storeDir });
  return {
    ...server,
    async dispose() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
