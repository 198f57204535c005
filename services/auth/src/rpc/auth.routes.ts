import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { AuthService } from '@parley/proto';
import type { AuthDeps } from '../domain/auth-deps.js';
import { deleteAccount } from '../domain/delete-account.usecase.js';
import { getMe } from '../domain/get-me.usecase.js';
import { login } from '../domain/login.usecase.js';
import { logout } from '../domain/logout.usecase.js';
import { refresh } from '../domain/refresh.usecase.js';
import { register } from '../domain/register.usecase.js';
import { toDevice, toTokens, toUser } from './messages.js';

/** The public AuthService: each handler authenticates if it must, then calls one use case. */
export function authRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(AuthService, {
      async register(req) {
        const { user, device, tokens } = await register(deps, req);
        return { user: toUser(user), device: toDevice(device, device.deviceId), tokens: toTokens(tokens) };
      },
      async login(req) {
        const { user, device, tokens } = await login(deps, req);
        return { user: toUser(user), device: toDevice(device, device.deviceId), tokens: toTokens(tokens) };
      },
      async refresh(req) {
        return { tokens: toTokens(await refresh(deps, req)) };
      },
      async logout(_req, ctx) {
        await logout(deps, requireCaller(ctx));
        return {};
      },
      async getMe(_req, ctx) {
        const caller = requireCaller(ctx);
        const { user, device } = await getMe(deps, caller);
        return { user: toUser(user), device: toDevice(device, caller.deviceId) };
      },
      async deleteAccount(req, ctx) {
        await deleteAccount(deps, requireCaller(ctx), req);
        return {};
      },
    });
}
