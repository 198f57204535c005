import { authClientConfigSchema, env } from '@parley/platform';

export const edgeConfigSchema = {
  ...authClientConfigSchema,
  /** Keys' internal gRPC URL. */
  KEYS_URL: env.url({ protocols: ['http', 'https'] }),
  /** Messaging's internal gRPC URL. */
  MESSAGING_URL: env.url({ protocols: ['http', 'https'] }),
  /** Media's internal gRPC URL. */
  MEDIA_URL: env.url({ protocols: ['http', 'https'] }),
  /** Moderation's internal gRPC URL (ModerationService, ModeratorService, and the role checks). */
  MODERATION_URL: env.url({ protocols: ['http', 'https'] }),
  /** Media's plain-HTTP URL, where the edge forwards tus uploads and downloads (/media/...). */
  MEDIA_HTTP_URL: env.url({ protocols: ['http', 'https'] }),
  HTTP_PORT: env.port({ default: 8080 }),
  /** Browser origins allowed to call the edge; "*" allows any. Empty allows none. */
  CORS_ALLOWED_ORIGINS: env.list({ default: [] }),
  /** How long a client may take to send a request's headers; then the connection is closed. */
  EDGE_HEADERS_TIMEOUT_SECONDS: env.int({ min: 1, max: 600, default: 10 }),
  /** How long a client may take to send a whole request, headers and body (a stream's answer is not counted). */
  EDGE_REQUEST_TIMEOUT_SECONDS: env.int({ min: 1, max: 3600, default: 30 }),
  /** How long an idle keep-alive connection stays open; above load balancers' idle timeouts. */
  EDGE_KEEP_ALIVE_TIMEOUT_SECONDS: env.int({ min: 1, max: 3600, default: 65 }),
  /** The most connections the edge holds open; past it new ones are closed at once. */
  EDGE_MAX_CONNECTIONS: env.int({ min: 1, max: 1_000_000, default: 10_000 }),
  /** The largest request body accepted, in bytes. */
  EDGE_READ_MAX_BYTES: env.int({ min: 1024, max: 64 * 1024 * 1024, default: 1024 * 1024 }),
  /**
   * How many proxies in front of the edge append to X-Forwarded-For. 0 trusts no header and uses
   * the socket's address; a wrong value lets clients pick the address rate limits see.
   */
  EDGE_TRUSTED_PROXY_HOPS: env.int({ min: 0, max: 10, default: 0 }),
  /** How long a revoked session is remembered: at least auth's longest access-token lifetime. */
  REVOCATION_WINDOW_SECONDS: env.int({ min: 60, max: 86400, default: 3600 }),
  /** Period of each Subscribe stream's safety refetch (jittered), which repairs lost live signals. */
  EDGE_STREAM_POLL_SECONDS: env.int({ min: 5, max: 3600, default: 60 }),
  /** Idle time after which a Subscribe stream gets a heartbeat, below proxies' idle timeouts. */
  EDGE_STREAM_HEARTBEAT_SECONDS: env.int({ min: 1, max: 300, default: 25 }),
  /** How long a Subscribe stream's write may stay blocked (its client not reading) before the stream ends. */
  EDGE_STREAM_WRITE_TIMEOUT_SECONDS: env.int({ min: 1, max: 600, default: 30 }),
  /** The most a Subscribe stream holds unread, in events; past it ephemerals are dropped and stored ones wait in the queue. */
  EDGE_STREAM_BUFFER_MAX_ITEMS: env.int({ min: 16, max: 100_000, default: 512 }),
  /** The most a Subscribe stream holds unread, in (estimated) bytes, ephemerals included. */
  EDGE_STREAM_BUFFER_MAX_BYTES: env.int({ min: 64 * 1024, max: 512 * 1024 * 1024, default: 1024 * 1024 }),
};
