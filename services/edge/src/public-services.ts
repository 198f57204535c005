import type { DescService } from '@bufbuild/protobuf';
import { AuthService, ContactService, ConversationService, DeviceService, KeyService } from '@parley/proto';

/**
 * The client-facing services and the backend URL variable for each. Only these are reachable
 * through the edge; internal services (e.g. AuthInternalService) are not.
 */
export const publicServices: { service: DescService; backend: 'AUTH_URL' | 'KEYS_URL' | 'MESSAGING_URL' }[] = [
  { service: AuthService, backend: 'AUTH_URL' },
  { service: DeviceService, backend: 'AUTH_URL' },
  { service: ContactService, backend: 'AUTH_URL' },
  { service: KeyService, backend: 'KEYS_URL' },
  { service: ConversationService, backend: 'MESSAGING_URL' },
];
