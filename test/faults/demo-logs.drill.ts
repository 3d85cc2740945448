/**
 * A whole demo run (`src/demo/run.ts --once`: web and worker processes, 300 learners, slots
 * published, a hold expiring, a booking cancelled) logs no secret and no personal data. The
 * demo plays on a database of its own name; its process log and its own output go to
 * test-results/faults/logs/ and are scanned for what the run's database holds (every
 * address, unsubscribe token, push endpoint and key, session and account token hashes,
 * password hashes), the demo's passwords, SECRET_KEY and the VAPID private key given to it,
 * and for the shapes of such things.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import pg from 'pg';
import webpush from 'web-push';
import { describe, expect, inject, it } from 'vitest';
import { newSecretKey } from '../../src/config.js';
import { DEMO_ADMIN, DEMO_LEARNER_PASSWORD, DEMO_OPERATOR } from '../../src/demo/seed.js';
import { projectRoot } from '../../src/paths.js';
import { withDatabase } from '../helpers/services.js';
import { assertNoSecretsInLogs, escapeRegExp, type Known } from '../helpers/log-scan.js';
import { drillLogFile, printFigures } from './kit.js';

const DRILL = 'demo-logs';

/** What the run's database holds that must never be logged. */
async function secretsIn(databaseUrl: string): Promise<{ known: Known[]; counts: Record<string, number> }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const column = async (sql: string) => (await pool.query<{ v: string }>(sql)).rows.map((r) => r.v);
    const emails = await column(`SELECT email AS v FROM users`);
    const passwordHashes = await column(`SELECT password_hash AS v FROM users`);
    const unsubscribe = await column(`SELECT unsubscribe_token AS v FROM user_preferences`);
    const subs = (await pool.query<{ endpoint: string; p256dh: string; auth: string }>(`SELECT endpoint, p256dh, auth FROM push_subscriptions`)).rows;
    const sessions = await column(`SELECT encode(token_hash, 'hex') AS v FROM sessions`);
    const accountTokens = await column(`SELECT encode(token_hash, 'hex') AS v FROM account_tokens`);
    const known: Known[] = [
      ...emails.map((value) => ({ label: 'account email', value })),
      ...passwordHashes.map((value) => ({ label: 'password hash', value })),
      ...unsubscribe.map((value) => ({ label: 'unsubscribe token', value })),
      ...subs.flatMap((s) => [
        { label: 'push endpoint', value: s.endpoint },
        // the endpoint's last segment is the capability, whatever origin a log leaves out
        { label: 'push endpoint secret path', value: new URL(s.endpoint).pathname.split('/').pop()! },
        { label: 'push key', value: s.p256dh },
        { label: 'push key', value: s.auth },
      ]),
      { label: 'session token (by hash)', sha256: sessions },
      { label: 'account token (by hash)', sha256: accountTokens },
    ];
    return { known, counts: { emails: emails.length, 'unsubscribe tokens': unsubscribe.length, 'push subscriptions': subs.length, sessions: sessions.length, 'account tokens': accountTokens.length } };
  } finally {
    await pool.end();
  }
}

async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

describe('a whole demo run', () => {
  it('logs no address, password, token or push key', async () => {
    const started = Date.now();
    const adminUrl = inject('adminUrl');
    const database = `slotwatch_demo_logs_${process.pid}`;
    const processLog = drillLogFile(DRILL, 'processes');
    const outputLog = drillLogFile(DRILL, 'output');
    const secretKey = newSecretKey();
    const vapid = webpush.generateVAPIDKeys();
    mkdirSync(dirname(outputLog), { recursive: true });
    rmSync(outputLog, { force: true });
    let outputFd = -1;
    try {
      // the demo's console output and its own logs (migrations, errors) in one file
      outputFd = openSync(outputLog, 'a');
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/run.ts', '--once', '--database', database, '--log-file', processLog], {
        cwd: projectRoot,
        env: {
          ...process.env,
          DATABASE_URL: adminUrl,
          REDIS_URL: inject('redisUrl'),
          LOG_LEVEL: 'info',
          CI: '1',
          SECRET_KEY: secretKey,
          VAPID_PUBLIC_KEY: vapid.publicKey,
          VAPID_PRIVATE_KEY: vapid.privateKey,
        },
        stdio: ['ignore', outputFd, outputFd],
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      const output = readFileSync(outputLog, 'utf8');
      const demoSeconds = (Date.now() - started) / 1000;
      const { known, counts } = await secretsIn(withDatabase(adminUrl, database));
      const all: Known[] = [
        ...known,
        { label: 'learner password', value: DEMO_LEARNER_PASSWORD },
        { label: 'staff password', value: DEMO_ADMIN.password },
        { label: 'staff password', value: DEMO_OPERATOR.password },
        { label: 'SECRET_KEY', value: secretKey },
        { label: 'VAPID private key', value: vapid.privateKey },
      ];
      const signIn = escapeRegExp(`${DEMO_ADMIN.email} / ${DEMO_ADMIN.password}`);
      // scanned before the exit code is judged: the lines of a run that failed are where
      // a secret is likeliest (an error's message and details)
      let leaks = '';
      try {
        assertNoSecretsInLogs([processLog, outputLog], all, {
          allow: [
            {
              labels: ['account email', 'email address', 'staff password'],
              line: new RegExp(`^ +queue board +\\S+/admin/queues +\\(sign in as ${signIn}\\)$`),
              reason: 'the demo shows whoever runs it how to sign in to the queue board',
            },
          ],
        });
      } catch (err) {
        leaks = (err as Error).message;
      }
      expect(code, `the demo exited ${code}; its output (${relative(projectRoot, outputLog)}) ends:\n${output.split('\n').slice(-15).join('\n')}\n${leaks}`).toBe(0);
      // a scan for nothing would pass: the run must have made what it is scanned for
      expect(counts.emails).toBeGreaterThanOrEqual(300);
      expect(counts['unsubscribe tokens']).toBeGreaterThanOrEqual(300);
      expect(counts['push subscriptions']).toBeGreaterThan(0);
      expect(counts.sessions).toBeGreaterThanOrEqual(3);
      const processLines = readFileSync(processLog, 'utf8').split('\n').filter(Boolean);
      expect(processLines.some((l) => l.includes('"web listening"'))).toBe(true);
      expect(processLines.some((l) => l.includes('"req":{'))).toBe(true); // requests are logged at this level
      expect(leaks).toBe('');

      // the .eml files the demo kept are mail, not logs, and are no use after the drill
      const emails = /^ +emails +(\S+) \(/m.exec(output)?.[1];
      if (emails && emails.startsWith(join(projectRoot, 'outbox', 'demo-')) && existsSync(emails)) rmSync(emails, { recursive: true });

      printFigures('demo logs', {
        'demo run (s)': demoSeconds.toFixed(1),
        'whole drill (s)': ((Date.now() - started) / 1000).toFixed(1),
        'process log lines': processLines.length,
        'output lines': output.split('\n').filter(Boolean).length,
        'known secrets': all.reduce((n, k) => n + ('value' in k ? 1 : k.sha256.length), 0),
        ...counts,
        findings: 0,
      });
    } finally {
      if (outputFd >= 0) closeSync(outputFd);
      await dropDatabase(adminUrl, database);
    }
  });
});
