import { runService } from '@parley/platform';
import { AuthInternalService, AuthService, ContactService, DeviceService } from '@parley/proto';
import { authConfigSchema } from './config.js';
import { database } from './database.js';
import type { AuthDeps } from './domain/auth-deps.js';
import { authRateLimits } from './domain/rate-limits.js';
import { TokenIssuer } from './domain/token-issuer.js';
import { authInternalRoutes } from './rpc/auth-internal.routes.js';
import { authRoutes } from './rpc/auth.routes.js';
import { contactRoutes } from './rpc/contact.routes.js';
import { deviceRoutes } from './rpc/device.routes.js';

void runService({
  name: 'auth',
  config: authConfigSchema,
  database,
  bus: { consumers: [] },
  services: [AuthService.typeName, DeviceService.typeName, ContactService.typeName, AuthInternalService.typeName],
  init: ({ config }) => TokenIssuer.fromJwk(config.AUTH_SIGNING_KEY, config.ACCESS_TOKEN_TTL_SECONDS, config.AUTH_PREVIOUS_SIGNING_KEYS),
  tokens: (_ctx, issuer) => issuer.verifier(),
  routes: ({ orm, outbox, config, log }, issuer) => {
    const deps: AuthDeps = {
      orm,
      outbox,
      issuer,
      log,
      limits: authRateLimits(orm, config),
      bcryptCost: config.BCRYPT_COST,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      passwordResetTtlSeconds: config.PASSWORD_RESET_TTL_SECONDS,
      devMode: config.AUTH_DEV_MODE,
    };
    return [
      authRoutes(deps),
      deviceRoutes({ ...deps, maxDevicesPerAccount: config.MAX_DEVICES_PER_ACCOUNT, linkCodeTtlSeconds: config.LINK_CODE_TTL_SECONDS }),
      contactRoutes({ orm, outbox, searchLimiter: deps.limits.searchUsersPerCaller }),
      authInternalRoutes(issuer),
    ];
  },
});
