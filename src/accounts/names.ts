/**
 * The rule for people's names (first and last), in one place: letters of any script with
 * their combining marks, spaces, apostrophes (' and ’), hyphens and dots, at least one
 * letter, trimmed. Nothing else: no digits, no control characters, no line breaks, no
 * markup, no "://", so a name cannot carry a link or a second line into a message.
 */

const NAME = /^[\p{L}\p{M}' ’.-]+$/u;
const LETTER = /\p{L}/u;

/** What a name may hold, for messages. */
export const NAME_RULE = 'may hold only letters, spaces, apostrophes, hyphens and dots';

/** The name trimmed, or null when it breaks the rule (an empty name breaks it too). */
export function normaliseName(value: string): string | null {
  const name = value.trim();
  return name.length > 0 && NAME.test(name) && LETTER.test(name) ? name : null;
}

// one word: letters with the apostrophes and hyphens of names like O'Neill or Jean-Luc
const GREETING = /^[\p{L}\p{M}'’-]{1,40}$/u;

/**
 * The first name as a greeting may use it, or null. Only a single word is used: a name
 * with spaces or dots ("Your account is locked. Call") could be read as slotwatch's own
 * words, so such names are greeted without the name.
 */
export function greetingName(firstName: string | null | undefined): string | null {
  return firstName && GREETING.test(firstName) ? firstName : null;
}
