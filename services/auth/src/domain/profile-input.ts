/**
 * A display name as stored: NFC, trimmed; '' clears it. Its length and characters are the
 * contract's (UpdateProfileRequest in auth.proto), as are the avatar media id's.
 */
export function parseDisplayName(raw: string): string {
  return raw.normalize('NFC').trim();
}
