import { runService, startHttpServer } from '@parley/platform';
import { edgeConfigSchema } from './config.js';
import { deliveryRoutes } from './delivery/delivery.routes.js';
import { buildEdgeDeps, edgeVerifier } from './deps.js';
import { mediaProxy } from './media/media-proxy.js';
import { forwardedServices, publicServices } from './public-services.js';
import { clientAddressPolicy } from './rpc/client-address.js';
import { forwardRelays, forwardRoutes } from './rpc/forward.js';
import { bodySizePolicy, contentTypePolicy, corsPolicy, streamPaths, unknownRpc } from './rpc/http-policy.js';

void runService({
  name: 'edge',
  config: edgeConfigSchema,
  bus: true,
  services: [],
  init: buildEdgeDeps,
  tokens: edgeVerifier,
  routes: () => [],
  // Messaging, auth and keys validate what the edge passes on; the edge validates Subscribe.
  forwards: forwardedServices.map(({ service }) => service),
  // The public server runs the same chain as the internal one: tokens are checked before forwarding.
  async start(deps, { interceptors }) {
    const { settings, hub, revocationFollower, sanctionFollower, log } = deps;
    const cors = corsPolicy(settings.corsAllowedOrigins);
    const stampClientAddress = clientAddressPolicy(settings.trustedProxyHops, deps.clientAddressProofs);
    const media = mediaProxy(deps);
    const contentType = contentTypePolicy(streamPaths(publicServices));
    const bodySize = bodySizePolicy(settings.readMaxBytes);
    const server = await startHttpServer({
      port: settings.httpPort,
      routes: [
        ...forwardedServices.map(({ service, backend, roleHolders }) => forwardRoutes(service, deps.backends[backend], roleHolders && deps.admitRoleHolders)),
        deliveryRoutes(deps),
      ],
      relays: forwardedServices.flatMap(({ service, backend, roleHolders }) => forwardRelays(service, deps.backends[backend], roleHolders && deps.admitRoleHolders)),
      interceptors,
      readMaxBytes: settings.readMaxBytes,
      connections: settings.connections,
      before: (req, res) => media(req, res) || cors(req, res) || contentType(req, res) || bodySize(req, res) || stampClientAddress(req),
      fallback: unknownRpc(publicServices.map((service) => service.typeName)),
    });
    log.info({ httpPort: server.port }, `edge serving clients at http://127.0.0.1:${server.port}`);
    if (!deps.clientAddressProofs.enabled) {
      log.warn('CLIENT_ADDRESS_SECRET is not set: the edge cannot prove client addresses, so services count every client as one "unknown" address');
    }
    return {
      async close(graceMs: number) {
        // Streams never finish by themselves: end them first, so clients reconnect elsewhere.
        hub.shutdown();
        await server.close(graceMs);
        await revocationFollower.stop();
        await sanctionFollower.stop();
      },
    };
  },
});
