import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The commonest passwords of leaked-password corpora, as zxcvbn-ts ranks them (about 49,000;
 * the list changes only with the pinned package version), lowercased for a case-blind match.
 */
const common = new Set(dictionary['passwords-common'].map((p) => p.normalize('NFKC').toLowerCase()));

/** Whether the password, NFKC-normalised and lowercased, is on the list. */
export function isCommonPassword(password: string): boolean {
  return common.has(password.normalize('NFKC').toLowerCase());
}
