import type { ConnectRouter } from '@connectrpc/connect';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { requireCaller } from '@parley/platform';
import { DeviceService } from '@parley/proto';
import type { AuthDeps } from '../deps.js';
import { approveLink } from '../domain/approve-link.usecase.js';
import { completeLink } from '../domain/complete-link.usecase.js';
import { createLinkCode } from '../domain/create-link-code.usecase.js';
import { linkDevice } from '../domain/link-device.usecase.js';
import { listDevices } from '../domain/list-devices.usecase.js';
import { renameDevice } from '../domain/rename-device.usecase.js';
import { revokeDevice } from '../domain/revoke-device.usecase.js';
import { toDevice, toLinkedDevice } from './messages.js';

/** DeviceService: LinkDevice and CompleteLink come from a device that has no token yet; the rest need one. */
export function deviceRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(DeviceService, {
      async listDevices(_req, ctx) {
        const caller = requireCaller(ctx);
        const devices = await listDevices(deps, caller);
        return { devices: devices.map((d) => toDevice(d, caller.deviceId)) };
      },
      async renameDevice(req, ctx) {
        const caller = requireCaller(ctx);
        return { device: toDevice(await renameDevice(deps, caller, req), caller.deviceId) };
      },
      async revokeDevice(req, ctx) {
        await revokeDevice(deps, requireCaller(ctx), req);
        return {};
      },
      async createLinkCode(_req, ctx) {
        const { code, expiresAt } = await createLinkCode(deps, requireCaller(ctx));
        return { code, expiresAt: timestampFromDate(expiresAt) };
      },
      async linkDevice(req) {
        const outcome = await linkDevice(deps, req);
        const { verificationCode } = outcome;
        return 'linked' in outcome
          ? { outcome: { case: 'linked', value: toLinkedDevice(outcome.linked) }, verificationCode }
          : { outcome: { case: 'approvalSecret', value: outcome.approvalSecret }, verificationCode };
      },
      async approveLink(req, ctx) {
        return approveLink(deps, requireCaller(ctx), req);
      },
      async completeLink(req) {
        return { linked: toLinkedDevice(await completeLink(deps, req)) };
      },
    });
}
