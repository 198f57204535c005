import { createConnectTransport } from '@connectrpc/connect-node';
import { solveProofOfWork } from '@parley/platform/dist/limits/proof-of-work.js';
import { ParleyClient, type ParleyClientOptions, type TransportFactory } from './client.js';
import { LibsignalCrypto } from './node/libsignal-crypto.js';
import { SqliteStore } from './node/sqlite-store.js';

export * from './index.js';
export { LibsignalCrypto } from './node/libsignal-crypto.js';
export { SqliteStore } from './node/sqlite-store.js';

/** The Node transport: Connect (binary) over HTTP/1.1 to the edge at `baseUrl`. */
export function nodeTransport(baseUrl: string): TransportFactory {
  return (interceptors) => createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors, useBinaryFormat: true });
}

export interface NodeClientOptions extends Partial<Omit<ParleyClientOptions, 'transport' | 'crypto' | 'store'>> {
  /** The edge's URL, as `npm start` prints it. */
  edgeUrl: string;
  /** The directory of this device's state (created if missing); ':memory:' keeps nothing. */
  stateDir: string;
}

/** A client whose device lives in `stateDir`: libsignal keys, sessions, the session and the message log. */
export function createNodeClient(opts: NodeClientOptions): { client: ParleyClient; store: SqliteStore } {
  const { edgeUrl, stateDir, ...rest } = opts;
  const store = new SqliteStore(stateDir);
  const client = new ParleyClient({ solveProofOfWork, ...rest, transport: nodeTransport(edgeUrl), crypto: new LibsignalCrypto(store), store });
  return { client, store };
}
