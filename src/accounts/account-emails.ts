/**
 * What slotwatch mails about an account: the link that verifies an address, the link that
 * resets a password, and the note to an address someone tried to sign up with again. They
 * hold no text a user typed (no name, nothing from the request): only our words and links
 * built from PUBLIC_BASE_URL and a token, escaped all the same.
 */
import { escapeHtml as e } from '../html.js';
import type { EmailContent } from '../alerts/templates.js';
import { TOKEN_MINUTES } from './account-tokens.js';

/** Links carry the token in the fragment: browsers never send it to the server (so it is in no log) nor in a Referer. */
export const verifyLink = (publicBaseUrl: string, token: string) => `${publicBaseUrl}/verify#token=${token}`;
export const resetLink = (publicBaseUrl: string, token: string) => `${publicBaseUrl}/reset-password#token=${token}`;

function html(paragraphs: string[]): string {
  return `<!doctype html>
<html lang="en-GB"><body style="font-family: sans-serif; line-height: 1.4">
${paragraphs.map((p) => `<p>${p}</p>`).join('\n')}
</body></html>
`;
}

const hours = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} hours` : `${minutes} minutes`);

/** The link that proves a new account's address. */
export function verificationEmail(link: string): EmailContent {
  const lasts = hours(TOKEN_MINUTES.verify);
  return {
    subject: 'Confirm your email address for slotwatch',
    text: [
      'Hello,',
      '',
      'Confirm this email address to start getting test slot alerts from slotwatch:',
      link,
      '',
      `The link works once, for ${lasts}.`,
      '',
      'If you did not create a slotwatch account, ignore this email: nothing will be sent to you.',
    ].join('\n'),
    html: html([
      'Hello,',
      'Confirm this email address to start getting test slot alerts from slotwatch:',
      `<a href="${e(link)}">Confirm my email address</a>`,
      `The link works once, for ${e(lasts)}.`,
      'If you did not create a slotwatch account, ignore this email: nothing will be sent to you.',
    ]),
  };
}

/** To an address that already has an account, when someone signs up with it again. */
export function signUpAttemptEmail(publicBaseUrl: string): EmailContent {
  const signIn = `${publicBaseUrl}/signin`;
  const forgot = `${publicBaseUrl}/forgot-password`;
  return {
    subject: 'Someone tried to sign up to slotwatch with your address',
    text: [
      'Hello,',
      '',
      'Someone tried to create a slotwatch account with this email address, which already has one. No new account was made and your account has not changed.',
      '',
      `If it was you, sign in instead: ${signIn}`,
      `Forgotten your password? Reset it: ${forgot}`,
      '',
      'If it was not you, you need do nothing.',
    ].join('\n'),
    html: html([
      'Hello,',
      'Someone tried to create a slotwatch account with this email address, which already has one. No new account was made and your account has not changed.',
      `If it was you, <a href="${e(signIn)}">sign in</a> instead. Forgotten your password? <a href="${e(forgot)}">Reset it</a>.`,
      'If it was not you, you need do nothing.',
    ]),
  };
}

/** The link that sets a new password. */
export function resetEmail(link: string): EmailContent {
  const lasts = hours(TOKEN_MINUTES.reset);
  return {
    subject: 'Reset your slotwatch password',
    text: [
      'Hello,',
      '',
      'Someone (we hope you) asked to reset the password of the slotwatch account with this email address. Choose a new password here:',
      link,
      '',
      `The link works once, for ${lasts}. Setting a new password signs out every device signed in to the account.`,
      '',
      'If you did not ask, ignore this email: your password has not changed.',
    ].join('\n'),
    html: html([
      'Hello,',
      'Someone (we hope you) asked to reset the password of the slotwatch account with this email address.',
      `<a href="${e(link)}">Choose a new password</a>`,
      `The link works once, for ${e(lasts)}. Setting a new password signs out every device signed in to the account.`,
      'If you did not ask, ignore this email: your password has not changed.',
    ]),
  };
}
