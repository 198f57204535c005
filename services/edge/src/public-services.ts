import type { DescService } from '@bufbuild/protobuf';
import { AuthService } from '@parley/proto';

/**
 * The client-facing services and the backend URL variable for each. Only these are reachable
 * through the edge; internal services (e.g. AuthInternalService) are not.
 */
export const publicServices: { service: DescService; backend: 'AUTH_URL' }[] = [{ service: AuthService, backend: 'AUTH_URL' }];
