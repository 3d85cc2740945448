/**
 * Sending alert emails: nodemailer over SMTP_URL with pooled connections (TLS as the URL
 * says: smtps:// is TLS from the start, smtp:// upgrades with STARTTLS when offered, and
 * `?requireTLS=true` insists), or, without SMTP_URL, .eml files in OUTBOX_DIR.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { scrubReason } from '../log.js';
import { SMTP_RECEIVER } from './retry-wake.js';
import { PermanentSendError, RetryableSendError } from './send-errors.js';
import type { EmailContent } from './templates.js';

export interface OutgoingEmail extends EmailContent {
  to: string;
  /** Makes the Message-ID stable across retries, so a receiver can drop a duplicate. */
  alertId: string;
  /** The Message-ID's local part when it is not `alert-<alertId>` (a digest: `digest-<messageId>`). */
  messageKey?: string;
  unsubscribeUrl: string;
}

export interface Mailer {
  /** Sends one message; resolves with the provider's id, throws Retryable/PermanentSendError. */
  send(message: OutgoingEmail): Promise<{ providerMessageId: string }>;
  close(): void;
}

/** SMTP_URL with connection pooling switched on unless the URL already says otherwise. */
function pooledUrl(smtpUrl: string): string {
  const u = new URL(smtpUrl);
  if (!u.searchParams.has('pool')) u.searchParams.set('pool', 'true');
  if (!u.searchParams.has('maxConnections')) u.searchParams.set('maxConnections', '10');
  if (!u.searchParams.has('maxMessages')) u.searchParams.set('maxMessages', '1000');
  // nodemailer waits minutes by default; a send must end well inside its claim's lease
  // (DELIVERY_LEASE_SECONDS), or a second sender could retake the alert mid-send
  for (const [k, v] of [['connectionTimeout', '10000'], ['greetingTimeout', '10000'], ['socketTimeout', '30000']] as const) {
    if (!u.searchParams.has(k)) u.searchParams.set(k, v);
  }
  return u.toString();
}

type SocketCallback = (err: Error | null, socketOptions?: { connection: net.Socket }) => void;

/**
 * Opens each pooled connection's TCP socket ourselves, only to switch Nagle's algorithm off
 * (nodemailer has no option for it). nodemailer writes a message as several small writes and
 * ends it with a small "\r\n.\r\n"; with Nagle on, that last write waits for the server's
 * ACK of the previous one, which a server holds back (delayed ACK, 40 ms on Linux) while it
 * waits for the end of the data: every message then costs ~40 ms of a connection's time,
 * capping a pool of 10 near 200 messages a second with the CPU idle.
 *
 * The socket is handed over while it is still connecting: nodemailer then owns it as it
 * owns its own, so a refused or dropped connection fails through nodemailer's error path
 * (which also takes the connection out of the pool; failing here instead would leave the
 * pool a dead connection that it waits on for ever), its greeting timeout covers a
 * connect that hangs, and TLS (smtps:// or STARTTLS) runs over this socket as usual.
 */
function connectWithoutNagle(options: { host?: string; port?: number; secure?: boolean }, callback: SocketCallback): void {
  const port = Number(options.port) || (options.secure ? 465 : 587); // nodemailer's own defaults
  callback(null, { connection: net.connect({ host: options.host || 'localhost', port, noDelay: true }) });
}

function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'slotwatch.localhost';
}

/**
 * SMTP's own rule: 4xx is a passing refusal, 5xx a lasting one. Errors with no reply code
 * (refused or dropped connections, timeouts) are passing; a malformed address is lasting.
 */
export function classifySmtpError(err: unknown): RetryableSendError | PermanentSendError {
  const e = err as { responseCode?: number; code?: string; message?: string };
  // the reply often names the recipient ("550 <bob@example.com>: no such user"), and this
  // message is stored with the alert and as the job's failure reason in Redis
  const message = scrubReason(`SMTP ${e.responseCode ?? e.code ?? 'error'}: ${e.message ?? String(err)}`).slice(0, 500);
  if (typeof e.responseCode === 'number') {
    // 421: the server is closing the channel, for everyone; other 4xx may be this recipient's alone (greylisting, a full mailbox)
    return e.responseCode >= 500 ? new PermanentSendError(message) : new RetryableSendError(message, null, e.responseCode === 421 ? [SMTP_RECEIVER] : []);
  }
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return new PermanentSendError(message);
  return new RetryableSendError(message, null, [SMTP_RECEIVER]);
}

type MailOptions = ReturnType<typeof baseOptions>;

function baseOptions(from: string, m: EmailContent & { to: string }, messageId: string) {
  return {
    from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId,
    headers: {} as Record<string, string | { prepared: boolean; value: string }>,
    // our bodies are mostly ASCII, for which nodemailer would choose quoted-printable after
    // scanning every body for it; saying so skips the scan (a noticeable share of a send)
    textEncoding: 'quoted-printable' as const,
  };
}

interface Transport {
  /** Sends a composed message; `stem` names its .eml file in the outbox. Resolves with the provider's id. */
  deliver(options: MailOptions, stem: string): Promise<string>;
  close(): void;
}

/** SMTP when SMTP_URL is set, else .eml files in OUTBOX_DIR: the one way every email leaves. */
function createTransport(config: Config, log: Logger): Transport {
  if (config.SMTP_URL) {
    const transport = nodemailer.createTransport(pooledUrl(config.SMTP_URL));
    // the pool (or a single-connection transport) asks its getSocket for every connection;
    // a URL cannot carry a function, and the options object is taken from the URL alone
    (transport.transporter as unknown as { getSocket: typeof connectWithoutNagle }).getSocket = connectWithoutNagle;
    // an idle pooled connection dropped by the server must not take the process down
    transport.on('error', (err) => log.warn({ err }, 'SMTP transport error'));
    return {
      async deliver(options) {
        try {
          // built in memory and handed over whole: nodemailer otherwise streams a message to
          // the socket in dozens of small writes, one system call each, which cost more CPU
          // per message than composing it (and as much again at the receiving end)
          const message = new MailComposer(options).compile();
          const raw = await message.build();
          const info = await transport.sendMail({ envelope: message.getEnvelope(), raw });
          const queued = /queued as ([^\s]+)/i.exec(String(info.response ?? ''))?.[1];
          return queued ?? message.messageId();
        } catch (err) {
          throw classifySmtpError(err);
        }
      },
      close: () => transport.close(),
    };
  }

  const dir = resolve(config.OUTBOX_DIR);
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async deliver(options, stem) {
      const info = await transport.sendMail(options);
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${stem}.eml`);
      await writeFile(path, info.message as Buffer);
      log.info({ path }, 'no SMTP_URL: email written to the outbox');
      return `file:${path}`;
    },
    close: () => transport.close(),
  };
}

/** A Mailer for this configuration: SMTP when SMTP_URL is set, else the outbox folder. */
export function createMailer(config: Config, log: Logger): Mailer {
  const from = config.MAIL_FROM;
  const messageIdDomain = domainOf(from);
  const transport = createTransport(config, log);
  return {
    async send(m) {
      const key = m.messageKey ?? `alert-${m.alertId}`;
      const options = baseOptions(from, m, `<${key}@${messageIdDomain}>`);
      // written out rather than with nodemailer's `list` option, which only its sendMail
      // applies, not the composer that the SMTP path builds with (RFC 2369 form, as `list` writes it)
      options.headers = {
        'List-Unsubscribe': { prepared: true, value: `<${m.unsubscribeUrl}> (Stop alerts for this search)` },
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      };
      return { providerMessageId: await transport.deliver(options, m.messageKey ?? m.alertId) };
    },
    close: () => transport.close(),
  };
}

/** An email about the account itself (not an alert): no unsubscribe, a Message-ID of its own. */
export interface AccountEmail extends EmailContent {
  to: string;
  /** Unique per message: its Message-ID and its outbox file name. */
  id: string;
}

export interface AccountMailer {
  /** Sends one message; throws Retryable/PermanentSendError. */
  send(message: AccountEmail): Promise<void>;
  close(): void;
}

/** Account emails (verification, reset, "someone tried to sign up") through the same transport as alerts. */
export function createAccountMailer(config: Config, log: Logger): AccountMailer {
  const from = config.MAIL_FROM;
  const messageIdDomain = domainOf(from);
  const transport = createTransport(config, log);
  return {
    async send(m) {
      await transport.deliver(baseOptions(from, m, `<account-${m.id}@${messageIdDomain}>`), `account-${m.id}`);
    },
    close: () => transport.close(),
  };
}
