import type { ConnectRouter } from '@connectrpc/connect';
import { canonicalUuid, requireCaller } from '@parley/platform';
import { KeyService } from '@parley/proto';
import type { KeysDeps } from '../deps.js';
import { getConsistencyProof } from '../domain/get-consistency-proof.usecase.js';
import { getPreKeyBundles } from '../domain/get-pre-key-bundles.usecase.js';
import { getPreKeyCounts } from '../domain/get-pre-key-counts.usecase.js';
import { getTreeHead } from '../domain/get-tree-head.usecase.js';
import { uploadKeys } from '../domain/upload-keys.usecase.js';
import { toPreKeyBundle, toSignedTreeHead } from './messages.js';

/** KeyService: each handler authenticates, validates, limits, calls one use case, shapes the answer. */
export function keysRoutes(deps: KeysDeps) {
  return (router: ConnectRouter) =>
    router.service(KeyService, {
      async uploadKeys(req, ctx) {
        const { counts, identityChanged } = await uploadKeys(deps, requireCaller(ctx), req);
        return { counts, identityChanged };
      },

      async getPreKeyCounts(_req, ctx) {
        return { counts: await getPreKeyCounts(deps, requireCaller(ctx)) };
      },

      async getPreKeyBundles(req, ctx) {
        const caller = requireCaller(ctx);
        const userId = canonicalUuid(req.userId);
        // The claim limit per (requester, target) is taken in the claim's own statement.
        const { bundles, logSnapshot } = await getPreKeyBundles(deps, caller, { userId, deviceId: req.deviceId });
        return { bundles: bundles.map((b) => toPreKeyBundle(b, logSnapshot)) };
      },

      async getTreeHead(_req, ctx) {
        requireCaller(ctx);
        const { head } = await getTreeHead(deps);
        return { treeHead: toSignedTreeHead(head), logPublicKey: deps.identityLog.publicKey };
      },

      async getConsistencyProof(req, ctx) {
        return { proof: await getConsistencyProof(deps, requireCaller(ctx), req) };
      },
    });
}
