import { runService } from '@parley/platform';
import { AuthInternalService, AuthService, ContactService, DeviceService } from '@parley/proto';
import { authConfigSchema } from './config.js';
import { database } from './database.js';
import { buildAuthDeps } from './deps.js';
import { sanctionChangedConsumer } from './events/consumers/sanction-changed.consumer.js';
import { authInternalRoutes } from './rpc/auth-internal.routes.js';
import { authRoutes } from './rpc/auth.routes.js';
import { contactRoutes } from './rpc/contact.routes.js';
import { deviceRoutes } from './rpc/device.routes.js';

void runService({
  name: 'auth',
  config: authConfigSchema,
  database,
  bus: true,
  services: [AuthService.typeName, DeviceService.typeName, ContactService.typeName, AuthInternalService.typeName],
  init: buildAuthDeps,
  // Auth checks its own tokens without a network hop.
  tokens: ({ issuer }) => issuer.verifier(),
  routes: (deps) => [authRoutes(deps), deviceRoutes(deps), contactRoutes(deps), authInternalRoutes(deps)],
  consumers: (deps) => [sanctionChangedConsumer(deps)],
});
