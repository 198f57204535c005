import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { CLIENT_ADDRESS_HEADER, addressLimitSubject, clientAddressFrom, requireCaller } from '@parley/platform';
import { AuthService } from '@parley/proto';
import type { AuthDeps } from '../deps.js';
import { deleteAccount } from '../domain/delete-account.usecase.js';
import { changePassword } from '../domain/change-password.usecase.js';
import { getMe } from '../domain/get-me.usecase.js';
import { listSessions } from '../domain/list-sessions.usecase.js';
import { login } from '../domain/login.usecase.js';
import { logoutEverywhere } from '../domain/logout-everywhere.usecase.js';
import { logout } from '../domain/logout.usecase.js';
import { refresh } from '../domain/refresh.usecase.js';
import { register } from '../domain/register.usecase.js';
import { requestPasswordReset } from '../domain/request-password-reset.usecase.js';
import { resetPassword } from '../domain/reset-password.usecase.js';
import { revokeSession } from '../domain/revoke-session.usecase.js';
import { updateProfile } from '../domain/update-profile.usecase.js';
import { toDevice, toSession, toTokens, toUser } from './messages.js';

/** The caller's address as the per-address limits key it: an IPv6 address by its /64. */
const clientAddress = (ctx: HandlerContext) => addressLimitSubject(clientAddressFrom(ctx.requestHeader.get(CLIENT_ADDRESS_HEADER)));

/** The public AuthService: each handler authenticates if it must, then calls one use case. */
export function authRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(AuthService, {
      getRegistrationChallenge() {
        const issued = deps.challenges.issue();
        return issued ? { ...issued, expiresAt: timestampFromDate(issued.expiresAt) } : { challenge: '', difficultyBits: 0 };
      },
      async register(req, ctx) {
        const { user, device, tokens, deviceSecret } = await register(deps, { ...req, clientAddress: clientAddress(ctx) });
        return { user: toUser(user), device: toDevice(device, device.deviceId), tokens: toTokens(tokens), deviceSecret };
      },
      async login(req, ctx) {
        const { user, device, tokens, deviceSecret } = await login(deps, { ...req, clientAddress: clientAddress(ctx) });
        return { user: toUser(user), device: toDevice(device, device.deviceId), tokens: toTokens(tokens), deviceSecret };
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
      async changePassword(req, ctx) {
        return { revokedSessions: await changePassword(deps, requireCaller(ctx), req) };
      },
      async requestPasswordReset(req, ctx) {
        await requestPasswordReset(deps, { username: req.username, clientAddress: clientAddress(ctx) });
        return {};
      },
      async resetPassword(req) {
        await resetPassword(deps, req);
        return {};
      },
      async listSessions(_req, ctx) {
        const caller = requireCaller(ctx);
        return { sessions: (await listSessions(deps, caller)).map((s) => toSession(s, caller.sessionId)) };
      },
      async revokeSession(req, ctx) {
        await revokeSession(deps, requireCaller(ctx), req);
        return {};
      },
      async logoutEverywhere(_req, ctx) {
        return { revokedSessions: await logoutEverywhere(deps, requireCaller(ctx)) };
      },
      async updateProfile(req, ctx) {
        return { user: toUser(await updateProfile(deps, requireCaller(ctx), req)) };
      },
    });
}
