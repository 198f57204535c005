import { runService } from '@parley/platform';
import { AuthInternalService, AuthService } from '@parley/proto';
import { authConfigSchema } from './config.js';
import { database } from './database.js';
import { TokenIssuer } from './domain/token-issuer.js';
import { authInternalRoutes } from './rpc/auth-internal.routes.js';
import { authRoutes } from './rpc/auth.routes.js';

void runService({
  name: 'auth',
  config: authConfigSchema,
  database,
  bus: { consumers: [] },
  services: [AuthService.typeName, AuthInternalService.typeName],
  init: ({ config }) => TokenIssuer.fromJwk(config.AUTH_SIGNING_KEY, config.ACCESS_TOKEN_TTL_SECONDS),
  tokens: (_ctx, issuer) => issuer.verifier(),
  routes: ({ orm, outbox, config, log }, issuer) => [
    authRoutes({ orm, outbox, issuer, log, bcryptCost: config.BCRYPT_COST, refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS }),
    authInternalRoutes(issuer),
  ],
});
