import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { AuthService, TokenPairSchema, UserSchema as UserMessage } from '@parley/proto';
import type { AuthDeps } from '../domain/auth-deps.js';
import { getMe } from '../domain/get-me.usecase.js';
import { login } from '../domain/login.usecase.js';
import { logout } from '../domain/logout.usecase.js';
import { refresh } from '../domain/refresh.usecase.js';
import { register } from '../domain/register.usecase.js';
import type { TokenPair } from '../domain/sessions.js';
import type { User } from '../domain/user.entity.js';

const toUser = (u: User) => create(UserMessage, { id: u.id, username: u.username, createdAt: timestampFromDate(u.createdAt) });

const toTokens = (t: TokenPair) =>
  create(TokenPairSchema, {
    accessToken: t.accessToken,
    accessTokenExpiresAt: timestampFromDate(t.accessTokenExpiresAt),
    refreshToken: t.refreshToken,
    refreshTokenExpiresAt: timestampFromDate(t.refreshTokenExpiresAt),
  });

/** The public AuthService: each handler authenticates if it must, then calls one use case. */
export function authRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(AuthService, {
      async register(req) {
        const { user, tokens } = await register(deps, req);
        return { user: toUser(user), tokens: toTokens(tokens) };
      },
      async login(req) {
        const { user, tokens } = await login(deps, req);
        return { user: toUser(user), tokens: toTokens(tokens) };
      },
      async refresh(req) {
        return { tokens: toTokens(await refresh(deps, req)) };
      },
      async logout(_req, ctx) {
        await logout(deps, requireCaller(ctx));
        return {};
      },
      async getMe(_req, ctx) {
        return { user: toUser(await getMe(deps, requireCaller(ctx))) };
      },
    });
}
