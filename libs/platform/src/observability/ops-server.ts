import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ServingStatus, type HealthState } from '../rpc/health.js';

/** Plain HTTP/1.1 for Prometheus scrapes and humans: /metrics, /healthz. */
export async function startOpsServer(port: number, registry: Registry, health: HealthState) {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.method === 'GET' && req.url === '/healthz') {
      const serving = health.status === ServingStatus.SERVING;
      res.writeHead(serving ? 200 : 503, { 'content-type': 'text/plain' }).end(serving ? 'SERVING\n' : 'NOT_SERVING\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
