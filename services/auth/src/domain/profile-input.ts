import { rpcError } from '@parley/platform';

export const DISPLAY_NAME_MAX = 64;
export const AVATAR_MEDIA_ID_MAX = 128;

/** NFC, trimmed, at most 64 characters, no control or line-breaking characters; '' clears it. */
export function parseDisplayName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if ([...name].length > DISPLAY_NAME_MAX) throw rpcError.invalidArgument(`display_name must be at most ${DISPLAY_NAME_MAX} characters`);
  if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(name)) throw rpcError.invalidArgument('display_name must not contain control characters or line breaks');
  return name;
}

/** A client-chosen media id: at most 128 of [A-Za-z0-9_-]; '' clears it. */
export function parseAvatarMediaId(raw: string): string {
  if (raw.length > AVATAR_MEDIA_ID_MAX) throw rpcError.invalidArgument(`avatar_media_id must be at most ${AVATAR_MEDIA_ID_MAX} characters`);
  if (!/^[A-Za-z0-9_-]*$/.test(raw)) throw rpcError.invalidArgument('avatar_media_id may contain only letters A-Z and a-z, digits, _ and -');
  return raw;
}
