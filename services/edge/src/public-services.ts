import type { DescService } from '@bufbuild/protobuf';
import {
  AuthService,
  ContactService,
  ConversationService,
  DeliveryService,
  DeviceService,
  KeyService,
  MediaService,
  MessageService,
  ModerationService,
  ModeratorService,
  StorageService,
} from '@parley/proto';
import type { EdgeBackends } from './deps.js';

/**
 * The client-facing services forwarded to a backend, and which backend serves each.
 * Internal services (e.g. AuthInternalService, DeliveryInternalService) are not reachable.
 * `roleHolders` services are passed on only for callers holding a moderation role.
 */
export const forwardedServices: { service: DescService; backend: keyof EdgeBackends; roleHolders?: true }[] = [
  { service: AuthService, backend: 'auth' },
  { service: DeviceService, backend: 'auth' },
  { service: ContactService, backend: 'auth' },
  { service: KeyService, backend: 'keys' },
  { service: ConversationService, backend: 'messaging' },
  { service: MessageService, backend: 'messaging' },
  { service: StorageService, backend: 'messaging' },
  { service: MediaService, backend: 'media' },
  { service: ModerationService, backend: 'moderation' },
  { service: ModeratorService, backend: 'moderation', roleHolders: true },
];

/** Client-facing services the edge serves itself. */
export const ownServices: DescService[] = [DeliveryService];

/** Every service a client can reach through the edge. */
export const publicServices: DescService[] = [...forwardedServices.map(({ service }) => service), ...ownServices];
