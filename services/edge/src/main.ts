import { remoteVerifier, runService, startHttpServer } from '@parley/platform';
import { edgeConfigSchema } from './config.js';
import { deliveryRoutes } from './delivery/delivery.routes.js';
import { deliveryFetcher } from './delivery/fetch-deliveries.js';
import { StreamHub } from './delivery/stream-hub.js';
import { streamMetrics } from './delivery/stream-metrics.js';
import { forwardedServices, publicServices } from './public-services.js';
import { followRevocations } from './revocations/follow-revocations.js';
import { RevokedSessions, refusingRevoked } from './revocations/revoked-sessions.js';
import { clientAddressPolicy } from './rpc/client-address.js';
import { forwardRoutes } from './rpc/forward.js';
import { contentTypePolicy, corsPolicy, unknownRpc } from './rpc/http-policy.js';

void runService({
  name: 'edge',
  config: edgeConfigSchema,
  bus: { consumers: [] },
  services: [],
  async init(ctx) {
    const windowMs = ctx.config.REVOCATION_WINDOW_SECONDS * 1000;
    const revoked = new RevokedSessions(windowMs);
    const metrics = streamMetrics(ctx.metrics);
    const hub = new StreamHub({
      nats: ctx.nats,
      subjects: ctx.subjects,
      log: ctx.log,
      metrics,
      heartbeatMs: ctx.config.EDGE_STREAM_HEARTBEAT_SECONDS * 1000,
      pollMs: ctx.config.EDGE_STREAM_POLL_SECONDS * 1000,
    });
    // Serving starts only after the recent revocations are loaded.
    const follower = await followRevocations(ctx, revoked, windowMs, (sessionIds) => hub.endSessions(sessionIds));
    return { revoked, follower, hub, metrics };
  },
  tokens: ({ config }, { revoked }) => refusingRevoked(remoteVerifier(config.AUTH_URL), revoked),
  routes: () => [],
  async start({ config, interceptors, log }, { follower, hub, metrics }) {
    const cors = corsPolicy(config.CORS_ALLOWED_ORIGINS);
    const stampClientAddress = clientAddressPolicy(config.EDGE_TRUSTED_PROXY_HOPS);
    const server = await startHttpServer({
      port: config.HTTP_PORT,
      routes: [
        ...forwardedServices.map(({ service, backend }) => forwardRoutes(service, config[backend])),
        deliveryRoutes(hub, deliveryFetcher(config.MESSAGING_URL), metrics),
      ],
      interceptors,
      readMaxBytes: config.EDGE_READ_MAX_BYTES,
      before: (req, res) => cors(req, res) || contentTypePolicy(req, res) || stampClientAddress(req),
      fallback: unknownRpc(publicServices.map((service) => service.typeName)),
    });
    log.info({ httpPort: server.port }, `edge serving clients at http://127.0.0.1:${server.port}`);
    return {
      async close(graceMs: number) {
        // Streams never finish by themselves: end them first, so clients reconnect elsewhere.
        hub.shutdown();
        await server.close(graceMs);
        await follower.stop();
      },
    };
  },
});
