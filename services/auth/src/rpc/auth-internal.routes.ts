import type { ConnectRouter } from '@connectrpc/connect';
import { AuthInternalService } from '@parley/proto';
import type { AuthDeps } from '../deps.js';

/** For Parley's services only: the public keys that verify access tokens, current and previous. */
export function authInternalRoutes({ issuer }: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(AuthInternalService, {
      getJwks() {
        return { keys: issuer.jwks.map(({ kid, x }) => ({ kid, kty: 'OKP', crv: 'Ed25519', x: x ?? '' })) };
      },
    });
}
