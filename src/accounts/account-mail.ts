/**
 * Sending the account emails after the request has been answered. The answer to a sign-up,
 * a resend or a reset request must not tell whether the address has an account, so it may
 * not wait for anything that differs between the two (a token to write, an SMTP server to
 * talk to): the answer goes first, and the work is done here, in the background of the
 * same process, through the alert emails' transport (SMTP_URL, or .eml files in OUTBOX_DIR).
 *
 * Not a durable outbox, on purpose: the message carries a raw token, which is never
 * stored (not in PostgreSQL, not in Redis job data), so a crash between the answer and the
 * send loses that one email. The person then asks again (resend, or a new reset), which
 * is what they would do with a lost email anyway.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createAccountMailer, type AccountMailer } from '../alerts/email.js';
import { RetryableSendError } from '../alerts/send-errors.js';
import type { EmailContent } from '../alerts/templates.js';
import type { Config } from '../config.js';
import { resetEmail, resetLink, signUpAttemptEmail, verificationEmail, verifyLink } from './account-emails.js';
import { issueToken } from './account-tokens.js';
import { findAccountByEmail, type Registration } from './users.js';

const ATTEMPTS = 3;
const RETRY_MS = 2000;

export class AccountMail {
  private readonly pending = new Set<Promise<void>>();
  private readonly mailer: AccountMailer;

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: Config,
    private readonly log: Logger,
    mailer?: AccountMailer,
  ) {
    this.mailer = mailer ?? createAccountMailer(config, log);
  }

  /** After a sign-up: a verification link for a new (or still unverified) account, else a note that someone tried. */
  afterRegistration(email: string, registration: Registration): void {
    this.later('registration', async () => {
      if (registration.userId === null) return; // a simultaneous sign-up of the same address mails it
      if (registration.created || !registration.verified) {
        const token = await issueToken(this.pool, registration.userId, 'verify');
        await this.send(email, verificationEmail(verifyLink(this.config.PUBLIC_BASE_URL, token)));
      } else {
        await this.send(email, signUpAttemptEmail(this.config.PUBLIC_BASE_URL));
      }
    });
  }

  /** A fresh verification link, when the address has an unverified account; else nothing. */
  resendVerification(email: string): void {
    this.later('verification resend', async () => {
      const account = await findAccountByEmail(this.pool, email);
      if (!account || account.verified) return;
      const token = await issueToken(this.pool, account.id, 'verify');
      await this.send(account.email, verificationEmail(verifyLink(this.config.PUBLIC_BASE_URL, token)));
    });
  }

  /** A reset link, when the address has an account; else nothing. */
  requestReset(email: string): void {
    this.later('password reset', async () => {
      const account = await findAccountByEmail(this.pool, email);
      if (!account) return;
      const token = await issueToken(this.pool, account.id, 'reset');
      await this.send(account.email, resetEmail(resetLink(this.config.PUBLIC_BASE_URL, token)));
    });
  }

  /** Resolves once every email started so far has been sent or given up on. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Waits for the emails under way (at most `timeoutMs`), then closes the transport. */
  async close(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.mailer.close();
  }

  private later(what: string, work: () => Promise<void>): void {
    // after this turn of the event loop: the answer is on its way before any of it runs
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      // the log says what kind of email failed, never the address or the link
      .catch((err: unknown) => this.log.error({ err }, `account email (${what}) not sent`))
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  private async send(to: string, content: EmailContent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.mailer.send({ ...content, to, id: randomUUID() });
        return;
      } catch (err) {
        if (!(err instanceof RetryableSendError) || attempt >= ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS * attempt));
      }
    }
  }
}
