/**
 * A real SMTP server for tests (the `smtp-server` package) that keeps every message it
 * accepts, parsed with mailparser. It can refuse like a struggling mail server does: be
 * switched off (connection refused), answer every connection with 421, or reject a
 * recipient with a 5xx. `stop()`/`start()` reuse the same port, so the sender's SMTP_URL
 * stays valid across an outage.
 *
 * With `{ parse: 'later' }` it accepts as a mail server does, storing the bytes, and
 * `parsePending()` parses them afterwards (the delivery benchmark, so that reading the
 * mail is not charged to the sender's machine). `arrivals` lists every accepted message
 * in either mode, as soon as it is accepted.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  /** RCPT TO addresses, as the envelope said. */
  envelopeTo: string[];
  mailFrom: string;
  parsed: ParsedMail;
  raw: Buffer;
  /** The id we answered in the 250 reply ("queued as <id>"). */
  queueId: string;
  receivedAt: number;
}

export type SmtpMode =
  | { kind: 'accept' }
  /** answer every new connection with this code (421: service not available) */
  | { kind: 'refuse-connect'; code: number }
  /** refuse RCPT TO for addresses matching, with this code (550: no such user) and reply text (as many servers, naming the address) */
  | { kind: 'reject-rcpt'; match: RegExp; code: number; reply?: (address: string) => string };

export interface SmtpReceiver {
  readonly port: number;
  /** smtp://127.0.0.1:<port> */
  readonly url: string;
  /** Messages accepted and parsed (in 'later' mode, once parsePending() has run). */
  readonly messages: ReceivedEmail[];
  /** Every accepted message, in order, as it was accepted. */
  readonly arrivals: { envelopeTo: string[]; mailFrom: string; receivedAt: number }[];
  /** 'later' mode: parses every message accepted since the last call into `messages`; resolves with how many. */
  parsePending(): Promise<number>;
  /** Connections the server has seen (refused ones too). */
  readonly connections: number;
  /** Whether it is listening (not stopped). */
  readonly listening: boolean;
  setMode(mode: SmtpMode): void;
  /** Stops listening: new connections are refused by the operating system. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Resolves once at least `n` messages have arrived; rejects after `timeoutMs`. */
  waitForCount(n: number, timeoutMs?: number): Promise<ReceivedEmail[]>;
  close(): Promise<void>;
}

/** Starts a receiver on a free port (or `port`). */
export async function startSmtpReceiver(options: { port?: number; parse?: 'on-receipt' | 'later' } = {}): Promise<SmtpReceiver> {
  const messages: ReceivedEmail[] = [];
  const arrivals: SmtpReceiver['arrivals'] = [];
  const pending: Omit<ReceivedEmail, 'parsed'>[] = [];
  const later = options.parse === 'later';
  let mode: SmtpMode = { kind: 'accept' };
  let connections = 0;
  let server: SMTPServer | null = null;
  let port = options.port ?? 0;
  const waiters = new Set<() => void>();

  function makeServer(): SMTPServer {
    return new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 100,
      size: 1024 * 1024,
      onConnect(_session, callback) {
        connections++;
        if (mode.kind === 'refuse-connect') return callback(Object.assign(new Error('Service not available, try later'), { responseCode: mode.code }));
        callback();
      },
      onRcptTo(address, _session, callback) {
        if (mode.kind === 'reject-rcpt' && mode.match.test(address.address)) {
          return callback(Object.assign(new Error(mode.reply?.(address.address) ?? 'Mailbox unavailable'), { responseCode: mode.code }));
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const envelope = {
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            raw: Buffer.concat(chunks),
            queueId: randomUUID(),
          };
          const accept = () => {
            const receivedAt = Date.now();
            arrivals.push({ envelopeTo: envelope.envelopeTo, mailFrom: envelope.mailFrom, receivedAt });
            for (const w of waiters) w();
            callback(null, `OK: queued as ${envelope.queueId}`);
            return receivedAt;
          };
          if (later) {
            pending.push({ ...envelope, receivedAt: accept() });
            return;
          }
          simpleParser(envelope.raw)
            .then((parsed) => {
              messages.push({ ...envelope, parsed, receivedAt: Date.now() });
              accept();
            })
            .catch((err: Error) => callback(err));
        });
      },
    });
  }

  async function listen(): Promise<void> {
    const s = makeServer();
    s.on('error', () => {}); // a client dropping mid-session is not the test's concern
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.server.address() as AddressInfo).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    messages,
    arrivals,
    async parsePending() {
      const batch = pending.splice(0);
      for (const m of batch) messages.push({ ...m, parsed: await simpleParser(m.raw) });
      return batch.length;
    },
    get connections() {
      return connections;
    },
    get listening() {
      return server !== null;
    },
    setMode(m) {
      mode = m;
    },
    stop,
    start: listen,
    waitForCount(n, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(messages);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${n} emails, received ${messages.length} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: stop,
  };
}
