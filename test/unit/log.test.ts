/** Logging never writes emails, passwords, tokens, authorization headers or push keys. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

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
