/**
 * Reading the account emails the app really sends, from the SMTP receiver in
 * dev/smtp-receiver.ts: wait for the next message to an address, and take the token out of
 * its link.
 */
import type { ReceivedEmail, SmtpReceiver } from '../../dev/smtp-receiver.js';

const taken = new WeakSet<ReceivedEmail>();
const sentTo = (m: ReceivedEmail, to: string) => m.envelopeTo.some((a) => a.toLowerCase() === to.toLowerCase());

/** The next message not read yet to `to` whose subject matches; waits up to `timeoutMs`. */
export async function nextMail(smtp: SmtpReceiver, to: string, subject: RegExp, timeoutMs = 15_000): Promise<ReceivedEmail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = smtp.messages.find((m) => !taken.has(m) && sentTo(m, to) && subject.test(m.parsed.subject ?? ''));
    if (found) {
      taken.add(found);
      return found;
    }
    if (Date.now() > deadline) {
      const seen = smtp.messages.map((m) => `${m.envelopeTo.join(',')}: ${m.parsed.subject}`).join('; ');
      throw new Error(`no email to ${to} matching ${subject} within ${timeoutMs} ms (received: ${seen || 'none'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every message to `to` so far. */
export function mailTo(smtp: SmtpReceiver, to: string): ReceivedEmail[] {
  return smtp.messages.filter((m) => sentTo(m, to));
}

/** The link to `path` in a message's text (e.g. /verify), whole. */
export function linkIn(mail: ReceivedEmail, path: '/verify' | '/reset-password'): string {
  const link = new RegExp(`https?://\\S+${path}#token=[A-Za-z0-9_-]{43}`).exec(mail.parsed.text ?? '')?.[0];
  if (!link) throw new Error(`no ${path} link in: ${mail.parsed.text}`);
  return link;
}

/** The token of the link to `path` in a message. */
export function tokenIn(mail: ReceivedEmail, path: '/verify' | '/reset-password'): string {
  return linkIn(mail, path).split('#token=')[1]!;
}
