/**
 * Which new passwords are refused: shorter than 8 characters, whitespace only, or one of
 * the 49,000 most common passwords (the `passwords-common` list of zxcvbn-ts, compared
 * without regard to letter case). The list is read once, on first use.
 */

export const PASSWORD_MIN_LENGTH = 8;

let common: Promise<Set<string>> | undefined;

function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common'].map((p) => p.toLowerCase())));
  return common;
}

/** Why this password may not be chosen, in words for its owner, or null when it may. */
export async function passwordProblem(password: string): Promise<string | null> {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.trim() === '') return 'must not be only spaces';
  if ((await commonPasswords()).has(password.toLowerCase())) return 'is too common: it is one of the passwords tried first; choose another';
  return null;
}
