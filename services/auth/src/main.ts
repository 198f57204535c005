import { RateLimiter, runService } from '@parley/platform';
import { AuthInternalService, AuthService, ContactService } from '@parley/proto';
import { authConfigSchema } from './config.js';
import { database } from './database.js';
import { rateLimits } from './domain/rate-limits.js';
import { TokenIssuer } from './domain/token-issuer.js';
import { authInternalRoutes } from './rpc/auth-internal.routes.js';
import { authRoutes } from './rpc/auth.routes.js';
import { contactRoutes } from './rpc/contact.routes.js';

void runService({
  name: 'auth',
  config: authConfigSchema,
  database,
  bus: { consumers: [] },
  services: [AuthService.typeName, AuthInternalService.typeName, ContactService.typeName],
  init: ({ config }) => TokenIssuer.fromJwk(config.AUTH_SIGNING_KEY, config.ACCESS_TOKEN_TTL_SECONDS),
  tokens: (_ctx, issuer) => issuer.verifier(),
  routes: ({ orm, outbox, config, log }, issuer) => [
    authRoutes({ orm, outbox, issuer, log, bcryptCost: config.BCRYPT_COST, refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS }),
    authInternalRoutes(issuer),
    contactRoutes({ orm, outbox, searchLimiter: new RateLimiter(orm, rateLimits.searchUsers(config.SEARCH_REQUESTS_PER_MINUTE)) }),
  ],
});
