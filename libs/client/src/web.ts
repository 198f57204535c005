import { createConnectTransport } from '@connectrpc/connect-web';
import type { TransportFactory } from './client.js';

export * from './index.js';

/**
 * The browser transport: Connect over fetch to the edge at `baseUrl` (the edge answers CORS).
 * End-to-end chat in a browser needs a browser build of libsignal, which the npm registry does
 * not offer; pass your own SignalCrypto, or use the browser client for accounts, devices,
 * contacts and key transparency only.
 */
export function webTransport(baseUrl: string): TransportFactory {
  return (interceptors) => createConnectTransport({ baseUrl, interceptors, useBinaryFormat: true });
}
