import type { DescService } from '@bufbuild/protobuf';
import {
  AuthService,
  ContactService,
  ConversationService,
  DeliveryService,
  DeviceService,
  KeyService,
  MessageService,
  StorageService,
} from '@parley/proto';

/**
 * The client-facing services forwarded to a backend, and the backend URL variable for each.
 * Internal services (e.g. AuthInternalService, DeliveryInternalService) are not reachable.
 */
export const forwardedServices: { service: DescService; backend: 'AUTH_URL' | 'KEYS_URL' | 'MESSAGING_URL' }[] = [
  { service: AuthService, backend: 'AUTH_URL' },
  { service: DeviceService, backend: 'AUTH_URL' },
  { service: ContactService, backend: 'AUTH_URL' },
  { service: KeyService, backend: 'KEYS_URL' },
  { service: ConversationService, backend: 'MESSAGING_URL' },
  { service: MessageService, backend: 'MESSAGING_URL' },
  { service: StorageService, backend: 'MESSAGING_URL' },
];

/** Client-facing services the edge serves itself. */
export const ownServices: DescService[] = [DeliveryService];

/** Every service a client can reach through the edge. */
export const publicServices: DescService[] = [...forwardedServices.map(({ service }) => service), ...ownServices];
