import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { StorageService } from '@parley/proto';
import type { MessagingDeps } from '../deps.js';
import { deleteItem, getItem, listItems, putItem } from '../domain/storage.usecase.js';
import { toStoredItem } from './messages.js';

/** StorageService: the caller's own items, whichever of their devices asks. */
export function storageRoutes(deps: MessagingDeps) {
  return (router: ConnectRouter) =>
    router.service(StorageService, {
      async putItem(req, ctx) {
        return { item: toStoredItem(await putItem(deps, requireCaller(ctx), req)) };
      },
      async getItem(req, ctx) {
        return { item: toStoredItem(await getItem(deps, requireCaller(ctx), req)) };
      },
      async listItems(req, ctx) {
        const { items, nextPageToken } = await listItems(deps, requireCaller(ctx), req);
        return { items: items.map(toStoredItem), nextPageToken };
      },
      async deleteItem(req, ctx) {
        return deleteItem(deps, requireCaller(ctx), req);
      },
    });
}
