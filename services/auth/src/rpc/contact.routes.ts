import type { ConnectRouter } from '@connectrpc/connect';
import { requireCaller } from '@parley/platform';
import { ContactService } from '@parley/proto';
import type { AuthDeps } from '../deps.js';
import { acceptContactRequest } from '../domain/accept-contact-request.usecase.js';
import { blockUser } from '../domain/block-user.usecase.js';
import { cancelContactRequest } from '../domain/cancel-contact-request.usecase.js';
import { declineContactRequest } from '../domain/decline-contact-request.usecase.js';
import { getPrivacy } from '../domain/get-privacy.usecase.js';
import { listBlockedUsers } from '../domain/list-blocked-users.usecase.js';
import { listContactRequests } from '../domain/list-contact-requests.usecase.js';
import { listContacts } from '../domain/list-contacts.usecase.js';
import { removeContact } from '../domain/remove-contact.usecase.js';
import { searchUsers } from '../domain/search-users.usecase.js';
import { sendContactRequest } from '../domain/send-contact-request.usecase.js';
import { setPrivacy } from '../domain/set-privacy.usecase.js';
import { unblockUser } from '../domain/unblock-user.usecase.js';
import { parsePrivacyChange, toContact, toContactRequest, toPrivacy, toUser } from './messages.js';

/** ContactService: every handler authenticates, then calls one use case. */
export function contactRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(ContactService, {
      async sendContactRequest(req, ctx) {
        return sendContactRequest(deps, requireCaller(ctx), req);
      },
      async acceptContactRequest(req, ctx) {
        return { contact: toContact(await acceptContactRequest(deps, requireCaller(ctx), req)) };
      },
      async declineContactRequest(req, ctx) {
        await declineContactRequest(deps, requireCaller(ctx), req);
        return {};
      },
      async cancelContactRequest(req, ctx) {
        await cancelContactRequest(deps, requireCaller(ctx), req);
        return {};
      },
      async removeContact(req, ctx) {
        await removeContact(deps, requireCaller(ctx), req);
        return {};
      },
      async listContacts(_req, ctx) {
        return { contacts: (await listContacts(deps, requireCaller(ctx))).map(toContact) };
      },
      async listContactRequests(_req, ctx) {
        const { incoming, outgoing } = await listContactRequests(deps, requireCaller(ctx));
        return { incoming: incoming.map(toContactRequest), outgoing: outgoing.map(toContactRequest) };
      },
      async blockUser(req, ctx) {
        await blockUser(deps, requireCaller(ctx), req);
        return {};
      },
      async unblockUser(req, ctx) {
        await unblockUser(deps, requireCaller(ctx), req);
        return {};
      },
      async listBlockedUsers(_req, ctx) {
        return { users: (await listBlockedUsers(deps, requireCaller(ctx))).map(toUser) };
      },
      async getPrivacy(_req, ctx) {
        return toPrivacy(await getPrivacy(deps, requireCaller(ctx)));
      },
      async setPrivacy(req, ctx) {
        const caller = requireCaller(ctx);
        return toPrivacy(await setPrivacy(deps, caller, parsePrivacyChange(req)));
      },
      async searchUsers(req, ctx) {
        return { users: (await searchUsers(deps, requireCaller(ctx), req)).map(toUser) };
      },
    });
}
