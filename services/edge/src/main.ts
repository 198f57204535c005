import { runService, startHttpServer } from '@parley/platform';
import { edgeConfigSchema } from './config.js';
import { publicServices } from './public-services.js';
import { forwardRoutes } from './rpc/forward.js';
import { contentTypePolicy, corsPolicy, unknownRpc } from './rpc/http-policy.js';

void runService({
  name: 'edge',
  config: edgeConfigSchema,
  services: [],
  tokens: 'remote',
  routes: () => [],
  async start({ config, interceptors, log }) {
    const cors = corsPolicy(config.CORS_ALLOWED_ORIGINS);
    const server = await startHttpServer({
      port: config.HTTP_PORT,
      routes: publicServices.map(({ service, backend }) => forwardRoutes(service, config[backend])),
      interceptors,
      readMaxBytes: config.EDGE_READ_MAX_BYTES,
      before: (req, res) => cors(req, res) || contentTypePolicy(req, res),
      fallback: unknownRpc(publicServices.map(({ service }) => service.typeName)),
    });
    log.info({ httpPort: server.port }, `edge serving clients at http://127.0.0.1:${server.port}`);
    return server;
  },
});
