import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlRows } from '@parley/platform';
import { HttpRefusal } from '../http/caller.js';
import { AttachmentSchema } from './attachment.entity.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+$/;
const CONTENT_TYPE_MAX_CHARS = 100;

export interface DeclaredUpload {
  sha256: string;
  contentType: string;
}

/** The tus Upload-Metadata media needs: `sha256` (64 lowercase hex digits) and an optional `content-type` hint. */
export function parseUploadMetadata(metadata: Record<string, string | null> | undefined): DeclaredUpload {
  const sha256 = metadata?.sha256 ?? '';
  if (!SHA256_HEX.test(sha256)) {
    throw new HttpRefusal(400, 'Upload-Metadata must carry sha256: the ciphertext\'s SHA-256 as 64 lowercase hex digits\n');
  }
  const contentType = metadata?.['content-type'] ?? 'application/octet-stream';
  if (contentType.length > CONTENT_TYPE_MAX_CHARS || !CONTENT_TYPE.test(contentType)) {
    throw new HttpRefusal(400, `Upload-Metadata content-type must be a media type like image/jpeg, at most ${CONTENT_TYPE_MAX_CHARS} characters\n`);
  }
  return { sha256, contentType };
}

export interface UploadLimits {
  quotaBytesPerUser: number;
  maxPendingUploadsPerUser: number;
  pendingUploadTtlMs: number;
  gcIntervalMs: number;
}

/**
 * Records a new upload of `size` bytes for `ownerId`, unless it would pass their quota (uploads in
 * progress count at their declared length) or their number of uploads in progress. One user's
 * creations queue on an advisory lock, so two at once can't both fit in the last free space.
 */
export async function recordUpload(
  em: EntityManager,
  limits: UploadLimits,
  row: { id: string; ownerId: string; size: number; declared: DeclaredUpload; now: Date },
): Promise<void> {
  await sqlRows(em, `select pg_advisory_xact_lock(hashtextextended('media-upload:' || ?, 0))`, [row.ownerId]);
  const [usage] = await sqlRows<{ bytes: string; pending: string; oldest_pending: Date | null }>(
    em,
    `select coalesce(sum(size), 0) as bytes, count(*) filter (where completed_at is null) as pending,
            min(created_at) filter (where completed_at is null) as oldest_pending
       from attachment where owner_id = ?`,
    [row.ownerId],
  );
  const used = Number(usage?.bytes ?? 0);
  if (Number(usage?.pending ?? 0) >= limits.maxPendingUploadsPerUser) {
    // At the latest, the oldest one expires and the next garbage collection frees its place.
    const freedAt = new Date(usage!.oldest_pending!).getTime() + limits.pendingUploadTtlMs + limits.gcIntervalMs;
    const retry = String(Math.max(1, Math.ceil((freedAt - row.now.getTime()) / 1000)));
    throw new HttpRefusal(
      429,
      `you have ${limits.maxPendingUploadsPerUser} uploads in progress, the most allowed: finish or delete one first (the oldest expires within ${retry} s)\n`,
      { 'Retry-After': retry },
    );
  }
  if (used + row.size > limits.quotaBytesPerUser) {
    throw new HttpRefusal(
      403,
      `storage quota exceeded: you hold ${used} of ${limits.quotaBytesPerUser} bytes and this upload declares ${row.size}; delete attachments first\n`,
    );
  }
  em.create(AttachmentSchema, {
    id: row.id,
    ownerId: row.ownerId,
    size: String(row.size),
    sha256: row.declared.sha256,
    contentType: row.declared.contentType,
    createdAt: row.now,
    completedAt: null,
  });
  await em.flush();
}
