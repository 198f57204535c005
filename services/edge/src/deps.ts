import { remoteVerifier, type ClientAddressProofs, type ConfigOf, type EventFollower, type HttpConnectionLimits, type Logger, type ServiceContext, type TokenVerifier } from '@parley/platform';
import type { edgeConfigSchema } from './config.js';
import type { FetchPage } from './delivery/delivery-stream.js';
import { deliveryFetcher } from './delivery/fetch-deliveries.js';
import { admitRoleHolders, type Admission } from './moderation/role-gate.js';
import { StreamHub } from './delivery/stream-hub.js';
import { streamMetrics, type StreamMetrics } from './delivery/stream-metrics.js';
import { followRevocations } from './revocations/follow-revocations.js';
import { RevokedSessions, refusingRevoked } from './revocations/revoked-sessions.js';
import { BannedUsers, refusingBanned } from './sanctions/banned-users.js';
import { followSanctions } from './sanctions/follow-sanctions.js';

/** What the edge's token verifier, public routes and server are built from: made once, in `init`. */
export interface EdgeDeps {
  log: Logger;
  /** Sessions auth revoked recently, whose tokens the edge refuses. */
  revoked: RevokedSessions;
  /** Keeps `revoked` fed from auth.session.revoked events. */
  revocationFollower: EventFollower;
  /** Users banned now, whose calls the edge refuses. */
  banned: BannedUsers;
  /** Keeps `banned` fed from moderation.sanction.changed. */
  sanctionFollower: EventFollower;
  hub: StreamHub;
  streamMetrics: StreamMetrics;
  /** Reads a device's queue from messaging, with that device's own Authorization. */
  fetchDeliveries: (authorization: string) => FetchPage;
  /** Signs the client address the edge forwards. */
  clientAddressProofs: ClientAddressProofs;
  /** The internal gRPC URL of each backend the edge forwards to. */
  backends: EdgeBackends;
  /** Lets only moderation role holders through to ModeratorService. */
  admitRoleHolders: Admission;
  settings: EdgeSettings;
}

export interface EdgeBackends {
  auth: string;
  keys: string;
  messaging: string;
  media: string;
  moderation: string;
}

/** The public server's settings; see config.ts for what each variable means. */
export interface EdgeSettings {
  httpPort: number;
  corsAllowedOrigins: string[];
  trustedProxyHops: number;
  readMaxBytes: number;
  connections: HttpConnectionLimits;
  /** Media's plain-HTTP URL, for /media/ (tus uploads and downloads). */
  mediaHttpUrl: string;
}

export async function buildEdgeDeps(ctx: ServiceContext<ConfigOf<typeof edgeConfigSchema>>): Promise<EdgeDeps> {
  const { config, log } = ctx;
  const windowMs = config.REVOCATION_WINDOW_SECONDS * 1000;
  const revoked = new RevokedSessions(windowMs);
  const metrics = streamMetrics(ctx.metrics);
  const hub = new StreamHub({
    nats: ctx.nats,
    subjects: ctx.subjects,
    log,
    metrics,
    heartbeatMs: config.EDGE_STREAM_HEARTBEAT_SECONDS * 1000,
    pollMs: config.EDGE_STREAM_POLL_SECONDS * 1000,
    stallMs: config.EDGE_STREAM_WRITE_TIMEOUT_SECONDS * 1000,
    buffer: { maxItems: config.EDGE_STREAM_BUFFER_MAX_ITEMS, maxBytes: config.EDGE_STREAM_BUFFER_MAX_BYTES },
  });
  // Serving starts only after the recent revocations are loaded.
  const revocationFollower = await followRevocations(ctx, revoked, windowMs, (sessionIds) => hub.endSessions(sessionIds));
  // A ban's tokens were all signed before it, so they expire within the same window.
  const banned = new BannedUsers(windowMs);
  const sanctionFollower = await followSanctions(ctx, banned, windowMs, (userId) => {
    const refusal = banned.refusal(userId);
    if (refusal) hub.endUser(userId, refusal);
  });
  return {
    log,
    revoked,
    revocationFollower,
    banned,
    sanctionFollower,
    hub,
    streamMetrics: metrics,
    fetchDeliveries: deliveryFetcher(config.MESSAGING_URL),
    clientAddressProofs: ctx.clientAddressProofs,
    admitRoleHolders: admitRoleHolders(config.MODERATION_URL),
    backends: { auth: config.AUTH_URL, keys: config.KEYS_URL, messaging: config.MESSAGING_URL, media: config.MEDIA_URL, moderation: config.MODERATION_URL },
    settings: {
      httpPort: config.HTTP_PORT,
      corsAllowedOrigins: config.CORS_ALLOWED_ORIGINS,
      trustedProxyHops: config.EDGE_TRUSTED_PROXY_HOPS,
      readMaxBytes: config.EDGE_READ_MAX_BYTES,
      connections: {
        headersTimeoutMs: config.EDGE_HEADERS_TIMEOUT_SECONDS * 1000,
        requestTimeoutMs: Math.max(config.EDGE_REQUEST_TIMEOUT_SECONDS, config.EDGE_HEADERS_TIMEOUT_SECONDS) * 1000,
        keepAliveTimeoutMs: config.EDGE_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
        maxConnections: config.EDGE_MAX_CONNECTIONS,
      },
      mediaHttpUrl: config.MEDIA_HTTP_URL,
    },
  };
}

/**
 * The edge's token check: auth's signature and expiry, then banned users, then revoked sessions.
 * A ban revokes the user's sessions too; its refusal comes first, as it says why and until when.
 */
export function edgeVerifier(deps: Pick<EdgeDeps, 'backends' | 'revoked' | 'banned'>): TokenVerifier {
  return refusingRevoked(refusingBanned(remoteVerifier(deps.backends.auth), deps.banned), deps.revoked);
}
