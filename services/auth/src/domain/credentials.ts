import { rpcError } from '@parley/platform';
import { isCommonPassword } from './common-passwords.js';

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const PASSWORD_MIN = 10;
// eslint-disable-next-line no-restricted-syntax -- characters of a password, not the delivery window
export const PASSWORD_MAX = 256;

/**
 * Usernames are case-insensitive: they are stored and compared in lowercase. `field` names the
 * request field in errors, for fields that hold a username too (a search query).
 */
export function parseUsername(raw: string, field = 'username'): string {
  const username = raw.normalize('NFKC').trim().toLowerCase();
  if (!username) throw rpcError.invalidArgument(`${field} is required`);
  if (username.length > USERNAME_MAX) throw rpcError.invalidArgument(`${field} must be at most ${USERNAME_MAX} characters`);
  if (username.length < USERNAME_MIN) throw rpcError.invalidArgument(`${field} must be at least ${USERNAME_MIN} characters`);
  if (!/^[a-z0-9_.]+$/.test(username)) {
    throw rpcError.invalidArgument(`${field} may contain only letters a-z, digits, '_' and '.'`);
  }
  return username;
}

/** The policy for new passwords. Login accepts whatever was set, so it only normalises. */
export function parseNewPassword(raw: string, username: string): string {
  const password = raw.normalize('NFKC');
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw rpcError.invalidArgument(`password must be at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX) throw rpcError.invalidArgument(`password must be at most ${PASSWORD_MAX} characters`);
  if (new Set(password).size < 4) throw rpcError.invalidArgument('password is too repetitive: use at least 4 different characters');
  if (password.toLowerCase().includes(username)) throw rpcError.invalidArgument('password must not contain the username');
  if (isCommonPassword(password)) throw rpcError.invalidArgument('password is too common: choose another');
  return password;
}
