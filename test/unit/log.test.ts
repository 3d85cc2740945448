/** Logging never writes emails, passwords, tokens, authorization headers or push keys. */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubEmails, scrubError, scrubReason } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug' }, stream), lines };
}

describe('log redaction', () => {
  it('redacts secrets and personal data wherever we log them', () => {
    const { logger, lines } = capture();
    const secrets = ['learner@example.com', 'hunter2', 'tok_abcdef123456', 'Bearer sekrit-token', 'BNcRdreALRFXTkOOUHK1EtK2w', 'k3yAuth', 'https://fcm.googleapis.com/fcm/send/xyz'];
    logger.info({ email: secrets[0], password: secrets[1], token: secrets[2] }, 'register');
    logger.info({ user: { id: 'u1', email: secrets[0] }, req: { headers: { authorization: secrets[3], cookie: 'sid=' + secrets[2] } } }, 'request');
    logger.info({ subscription: { endpoint: secrets[6], keys: { p256dh: secrets[4], auth: secrets[5] } } }, 'subscribe');
    logger.info({ to: secrets[0] }, `mail sent to ${secrets[0]}`);
    logger.error({ err: Object.assign(new Error(`duplicate key for ${secrets[0]}`), { detail: `Key (lower(email))=(${secrets[0]}) already exists.` }) }, 'failed');
    const out = lines.join('');
    for (const s of secrets) expect(out).not.toContain(s);
    expect(out).toContain('"id":"u1"'); // ids stay: they are how we find things
    expect(out).toContain('[redacted]');
    expect(out).toContain('mail sent to [email]');
    expect(lines).toHaveLength(5);
  });

  it('leaves out the client object pg-pool attaches to an idle client error, and keeps the facts', () => {
    const { logger, lines } = capture();
    const client = { connectionParameters: { user: 'postgres', database: 'slotwatch' }, parsedStatements: { q: 'SELECT 1' } };
    logger.error({ err: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', client }) }, 'idle PostgreSQL client failed');
    const line = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({ message: 'terminating connection due to administrator command', code: '57P01' });
    expect(line.err).not.toHaveProperty('client');
    expect(lines[0]).not.toContain('parsedStatements');
  });
});

describe('request logs', () => {
  it('keep the path and the ids in it, and lose an unsubscribe token or a token in the query string', async () => {
    const { logger, lines } = capture();
    const app = Fastify({ loggerInstance: logger });
    app.get('/unsubscribe/:token', async () => 'ok');
    app.get('/api/slots/:id', async () => 'ok');
    const token = randomBytes(32).toString('hex');
    const id = '0b6c2f3e-9a1d-4c1e-8f00-5b8e2a9d7c11';
    await app.inject({ method: 'GET', url: `/unsubscribe/${token}` });
    await app.inject({ method: 'GET', url: `/api/slots/${id}?from=2026-12-01&resetToken=${token}` });
    await app.inject({ method: 'GET', url: `/unsubscribe/${token}/more` }); // a 404 is logged too
    await app.close();
    const urls = lines.map((l) => JSON.parse(l) as { req?: { url: string; method: string } }).flatMap((l) => (l.req ? [l.req] : []));
    expect(urls.map((r) => r.url)).toEqual(['/unsubscribe/[redacted]', `/api/slots/${id}?from=2026-12-01&resetToken=[redacted]`, '/unsubscribe/[redacted]/more']);
    expect(urls[0]!.method).toBe('GET');
    expect(lines.join('')).not.toContain(token);
  });
});

describe('failure reasons kept outside their row', () => {
  it('lose email addresses in any form a server writes them, and every URL keeps only its host', () => {
    expect(scrubReason("Can't send mail - all recipients were rejected: 550 5.1.1 <Bob.Smith+x@Example.co.uk>: no such user")).toBe(
      "Can't send mail - all recipients were rejected: 550 5.1.1 <[email]>: no such user",
    );
    expect(scrubReason('450 bob@localhost busy; user <ann@[10.0.0.1]> unknown')).toBe('450 [email] busy; user <[email]> unknown');
    expect(scrubReason('Invalid URL https://u:pw@fcm.googleapis.com/fcm/send/dKx9?a=1 and http://127.0.0.1:8080/unsubscribe/abc')).toBe(
      'Invalid URL https://fcm.googleapis.com/[…] and http://127.0.0.1:8080/[…]',
    );
    // what is no address stays: hosts and ports, scoped package paths in a stack trace
    const stack = 'connect ECONNREFUSED 127.0.0.1:443\n    at x (/work/node_modules/@bull-board/api/dist/x.js:1:2)';
    expect(scrubReason(stack)).toBe(stack);
  });

  // a pattern rescanned from every position takes tens of seconds on these inputs, which
  // the test's own time limit turns into a failure; a linear one takes milliseconds
  it('handles a long run of text, with or without an address in it', () => {
    expect(scrubReason('a'.repeat(200_000))).toHaveLength(200_000);
    expect(scrubReason(`550 <${'b'.repeat(200_000)}@example.com>`)).toBe('550 <[email]>');
    expect(scrubEmails('a'.repeat(200_000))).toHaveLength(200_000);
    expect(scrubEmails(`to ${'b'.repeat(200_000)}@example.com.`)).toBe('to [email].');
  });

  it('scrubError rewrites message and stack of the same error object', () => {
    const err = new Error('550 <bob@example.com>: no such user');
    expect(scrubError(err)).toBe(err);
    expect(err.message).toBe('550 <[email]>: no such user');
    expect(err.stack).toMatch(/^Error: 550 <\[email\]>: no such user\n/);
  });
});
