import type { ConnectRouter } from '@connectrpc/connect';
import { AuthInternalService } from '@parley/proto';
import type { TokenIssuer } from '../domain/token-issuer.js';

/** For Parley's services only: the public keys that verify access tokens, current and previous. */
export function authInternalRoutes(issuer: TokenIssuer) {
  return (router: ConnectRouter) =>
    router.service(AuthInternalService, {
      getJwks() {
        return { keys: issuer.jwks.map(({ kid, x }) => ({ kid, kty: 'OKP', crv: 'Ed25519', x: x ?? '' })) };
      },
    });
}
