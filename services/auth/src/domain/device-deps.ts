import type { AuthDeps } from './auth-deps.js';

/** What the device and linking use cases need beyond the other auth use cases. */
export interface DeviceDeps extends AuthDeps {
  maxDevicesPerAccount: number;
  linkCodeTtlSeconds: number;
}
