/** The log scan finds every planted secret, says where, and never repeats one in its output. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { assertNoSecretsInLogs, findSecretsInLogs, formatFindings, logFilesIn } from '../helpers/log-scan.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-log-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function logFile(lines: string[], name = `t${++n}.log`): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
const pinoLine = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time: 1764680000000, pid: 42, hostname: 'h', ...fields });

/** What a clean log of ours looks like: ids, paths with UUIDs, redacted fields, stack traces. */
const CLEAN = [
  pinoLine({ reqId: 'req-1', req: { method: 'POST', url: '/api/slots/0b6c2f3e-9a1d-4c1e-8f00-5b8e2a9d7c11/hold', headers: { authorization: '[redacted]' } }, msg: 'incoming request' }),
  pinoLine({ queue: 'deliver-email', jobId: 'alert-0b6c2f3e-9a1d-4c1e-8f00-5b8e2a9d7c11', user: { id: 'u1', email: '[redacted]' }, msg: 'mail sent to [email]' }),
  pinoLine({ subscription: { endpoint: '[redacted]', keys: '[redacted]' }, auth: '[redacted]', msg: 'push sent' }),
  pinoLine({ err: { message: 'connect ECONNREFUSED 127.0.0.1:6379', stack: 'Error: x\n    at f (/work/node_modules/@bull-board/api/dist/index.js:1:2)' }, msg: 'redis error' }),
  '  12.3s  released  Leeds practical 2026-12-20T09:00 (new) → 14 learners alerted',
  'process logs  /work/outbox/demo-processes.log',
];

describe('findSecretsInLogs', () => {
  it('finds nothing in a clean log', () => {
    expect(findSecretsInLogs([logFile(CLEAN)], [{ label: 'password', value: 'correct horse battery' }])).toEqual([]);
  });

  it('finds each known value, names file, line and label, and redacts it in the excerpt', () => {
    const secrets = { email: 'learner0042@demo.slotwatch.test', password: 'demo-learner-password', vapid: b64(32), unsubscribe: randomBytes(32).toString('hex') };
    const file = logFile([
      ...CLEAN,
      pinoLine({ body: { email: secrets.email.toUpperCase() }, msg: 'register' }),
      `signing in with ${secrets.password} now`,
      pinoLine({ env: { VAPID: secrets.vapid }, msg: 'config' }),
      pinoLine({ note: `token ${secrets.unsubscribe} seen`, msg: 'x' }),
    ]);
    const findings = findSecretsInLogs([file], [
      { label: 'learner email', value: secrets.email },
      { label: 'learner password', value: secrets.password },
      { label: 'VAPID private key', value: secrets.vapid },
      { label: 'unsubscribe token', value: secrets.unsubscribe },
    ]);
    const at = (line: number) => findings.filter((f) => f.line === line).map((f) => f.label).sort();
    expect(at(CLEAN.length + 1)).toEqual(['email address', 'learner email']);
    expect(at(CLEAN.length + 2)).toEqual(['learner password']);
    expect(at(CLEAN.length + 3)).toEqual(['VAPID private key']);
    expect(at(CLEAN.length + 4)).toEqual(['unsubscribe token']);
    expect(findings).toHaveLength(5);
    expect(findings[0]!.file).not.toMatch(/^\//); // relative when under the project; here a path out of it
    const output = formatFindings(findings);
    for (const s of Object.values(secrets)) expect(output.toLowerCase()).not.toContain(s.toLowerCase());
    expect(output).toContain('signing in with [learner password] now');
    expect(output).toContain('body.email=[learner email]');
  });

  it('finds a known value that JSON escaped in the line', () => {
    const password = 'quote"and\\backslash';
    const findings = findSecretsInLogs([logFile([pinoLine({ attempt: password, msg: 'login' })])], [{ label: 'password', value: password }]);
    expect(findings.map((f) => f.label)).toEqual(['password']);
    expect(findings[0]!.excerpt).not.toContain('backslash');
  });

  it('finds secrets by their shape when the test does not know them', () => {
    const p256dh = 'B' + b64(64).slice(0, 86);
    const cases: [string, string][] = [
      ['email address', 'mail to someone.else+tag@example.co.uk failed'],
      ['bearer token', pinoLine({ headers: { authorization: `Bearer ${b64(20)}` }, msg: 'request' })],
      ['session token', `token sw_${b64(32)} issued`],
      ['device cookie', `cookie sw_device=${b64(16)}.${b64(32)} set`],
      ['token in a URL', `GET /unsubscribe/${randomBytes(32).toString('hex')} 200`],
      ['token in a URL', `link http://localhost:3000/verify#token=${b64(32)}`],
      ['token in a URL', pinoLine({ req: { url: `/reset-password?token=${b64(32)}` }, msg: 'incoming request' })],
      ['push key', pinoLine({ subscription: { keys: { p256dh, auth: b64(16) } }, msg: 'subscribe' })],
      ['push key', `key ${p256dh} refused`],
      ['password hash', `row scrypt$17$8$1$${randomBytes(16).toString('base64')}$${randomBytes(64).toString('base64')}`],
    ];
    const file = logFile(cases.map(([, line]) => line));
    const findings = findSecretsInLogs([file], []);
    cases.forEach(([label], i) => expect(findings.filter((f) => f.line === i + 1).map((f) => f.label), `line ${i + 1}`).toContain(label));
  });

  it('finds session and account tokens by the SHA-256 the database keeps', () => {
    const session = `sw_${b64(32)}`;
    const reset = b64(32);
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    const file = logFile([`a ${session} b`, pinoLine({ note: `x${reset}`, msg: 'not a boundary' }), pinoLine({ note: reset, msg: 'reset' })]);
    const findings = findSecretsInLogs([file], [{ label: 'session token (by hash)', sha256: [sha(session)] }, { label: 'reset token (by hash)', sha256: [sha(reset), sha(b64(32))] }]);
    expect(findings.filter((f) => f.label.endsWith('(by hash)')).map((f) => [f.line, f.label])).toEqual([
      [1, 'session token (by hash)'],
      [3, 'reset token (by hash)'],
    ]);
  });

  it('drops only the findings an allowance names, on the lines it matches', () => {
    const file = logFile(['queue board  (sign in as admin@demo.slotwatch.test / demo-admin-password)', 'admin@demo.slotwatch.test again']);
    const allow = [{ labels: ['email address', 'admin password'], line: /^queue board /, reason: 'shown on purpose' }];
    const findings = findSecretsInLogs([file], [{ label: 'admin password', value: 'demo-admin-password' }], { allow });
    expect(findings.map((f) => [f.line, f.label])).toEqual([[2, 'email address']]);
  });

  it('refuses a known value too short to look for', () => {
    expect(() => findSecretsInLogs([logFile(CLEAN)], [{ label: 'pin', value: '1234' }])).toThrow(/"pin" is 4 characters/);
  });

  it('finds what a real logger writes from a field redaction does not cover, and nothing from those it does', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c).trimEnd()), cb()) }));
    logger.info({ user: { email: 'ann@example.com' }, token: 'sw_' + b64(32) }, 'covered by redaction');
    logger.info({ recipient: 'ann@example.com' }, 'a field redaction does not name');
    const findings = findSecretsInLogs([logFile(lines)], [{ label: 'learner email', value: 'ann@example.com' }]);
    expect(findings.map((f) => [f.line, f.label])).toEqual([
      [2, 'learner email'],
      [2, 'email address'],
    ]);
  });
});

describe('assertNoSecretsInLogs', () => {
  it('passes a clean log, and fails a planted secret with a message that does not repeat it', () => {
    const sub = join(dir, 'drill');
    const clean = logFile(CLEAN, 'drill-web.log');
    expect(() => assertNoSecretsInLogs([clean], [{ label: 'learner email', value: 'bob@example.com' }])).not.toThrow();
    const leaky = logFile([...CLEAN, pinoLine({ to: 'bob@example.com', msg: 'sent' })], 'drill-worker.log');
    let message = '';
    try {
      assertNoSecretsInLogs([clean, leaky], [{ label: 'learner email', value: 'bob@example.com' }]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/drill-worker\.log:7 learner email/);
    expect(message).not.toContain('bob@example.com');
    expect(logFilesIn(dir, 'drill-')).toEqual([join(dir, 'drill-web.log'), join(dir, 'drill-worker.log')]);
    expect(logFilesIn(sub)).toEqual([]);
  });

  it('fails when there is nothing to scan, since that would prove nothing', () => {
    expect(() => assertNoSecretsInLogs([], [])).toThrow(/nothing to scan/);
    expect(() => assertNoSecretsInLogs([logFile([''])], [])).toThrow(/nothing to scan/);
  });
});
