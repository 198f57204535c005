import { authClientConfigSchema, env } from '@parley/platform';

export const edgeConfigSchema = {
  ...authClientConfigSchema,
  HTTP_PORT: env.port({ default: 8080 }),
  /** Browser origins allowed to call the edge; "*" allows any. Empty allows none. */
  CORS_ALLOWED_ORIGINS: env.list({ default: [] }),
  /** The largest request body accepted, in bytes. */
  EDGE_READ_MAX_BYTES: env.int({ min: 1024, max: 64 * 1024 * 1024, default: 1024 * 1024 }),
};
