import type { ConnectRouter } from '@connectrpc/connect';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AuthInternalService } from '@parley/proto';
import type { AuthDeps } from '../deps.js';
import { issuePasswordResetToken } from '../domain/issue-password-reset-token.usecase.js';

/** For Parley's services only: the public keys that verify access tokens, and reset tokens for the mailer. */
export function authInternalRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(AuthInternalService, {
      getJwks() {
        return { keys: deps.issuer.jwks.map(({ kid, x }) => ({ kid, kty: 'OKP', crv: 'Ed25519', x: x ?? '' })) };
      },
      async issuePasswordResetToken(req) {
        const { resetToken, expiresAt } = await issuePasswordResetToken(deps, req);
        return { resetToken, expiresAt: timestampFromDate(expiresAt) };
      },
    });
}
