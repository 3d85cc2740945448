/**
 * Scans log files (pino's JSON lines or plain text) for secrets and personal data that must
 * never be logged: the values a test knows (learners' addresses and passwords, tokens read
 * back from the database or from mail, push keys, SECRET_KEY, the VAPID private key), the
 * session and account tokens whose SHA-256 the database keeps, and the shapes of such things
 * whatever their value (an email address, a bearer or session token, a token in a URL, a
 * sign-in device cookie, a push subscription's keys). A finding names the file and line and
 * shows the line with every match replaced by its label, so the test output never repeats
 * a secret.
 *
 * A drill that writes its processes' logs to test-results/faults/logs/ checks them when it
 * is done:
 *
 * ```ts
 * afterAll(() => {
 *   assertNoSecretsInLogs(drillLogFiles('kill-worker'), [
 *     ...learners.map((l) => ({ label: 'learner email', value: l.email })),
 *     { label: 'VAPID private key', value: vapid.privateKey },
 *   ]);
 * });
 * ```
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Queryable } from '../../src/db/types.js';
import { EMAIL } from '../../src/log.js';
import { projectRoot } from '../../src/paths.js';
import { DRILL_LOG_DIR } from '../faults/kit.js';

/** A secret the test knows in clear. */
export interface KnownSecret {
  label: string;
  value: string;
}

/**
 * Secrets of which the test knows only the SHA-256 (hex), as the database keeps session
 * tokens (`sw_` and 43 base64url characters) and account tokens (43): any such run in a
 * log whose hash is here is one of them.
 */
export interface HashedSecrets {
  label: string;
  sha256: string[];
}

export type Known = KnownSecret | HashedSecrets;

/**
 * Findings to drop on purpose: those of `labels` on lines matching `line`. For output that
 * shows something by design (the demo prints its admin's sign-in for the queue board).
 */
export interface Allowance {
  labels: string[];
  line: RegExp;
  reason: string;
}

export interface Finding {
  /** Relative to the project root. */
  file: string;
  /** 1-based. */
  line: number;
  label: string;
  /** The line around the first match, every match replaced by `[label]`. */
  excerpt: string;
}

interface Span {
  start: number;
  end: number;
  label: string;
}

// shorter known values would match ordinary words and numbers
const MIN_KNOWN_LENGTH = 6;
const B64URL_RUN = /[A-Za-z0-9_-]+/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Shapes that are a secret whatever their value. */
const SHAPES: { label: string; pattern: RegExp; keep?: (match: RegExpExecArray) => boolean }[] = [
  { label: 'email address', pattern: EMAIL },
  { label: 'bearer token', pattern: /\bBearer\s+(?!\[redacted\])[A-Za-z0-9._~+/-]{8,}=*/gi },
  { label: 'session token', pattern: /(?<![A-Za-z0-9_-])sw_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g },
  { label: 'device cookie', pattern: /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g },
  // a capability in a link (/unsubscribe/<64 hex>, /verify#token=<43>, ?token=...) or a
  // field named for a token that redaction missed; ids (UUIDs) in paths are not secrets
  {
    label: 'token in a URL',
    pattern: /(?<=\/|[?#&]|[?#&][\w.-]*=|[Tt]oken=)[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])/g,
    keep: (m) => !UUID.test(m[0]),
  },
  { label: 'password hash', pattern: /\bscrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+/g },
  // a push subscription's keys named as such (JSON lines are scanned as `path=value`)
  { label: 'push key', pattern: /\b(?:p256dh|auth)"?\s*[=:]\s*"?[A-Za-z0-9_-]{16,}/g },
  // an uncompressed P-256 public key (a p256dh) in base64url, wherever it stands
  { label: 'push key', pattern: /(?<![A-Za-z0-9_-])B[A-Za-z0-9_-]{86}(?![A-Za-z0-9_-])/g },
];

/** `text` as a pattern that matches it literally (for a known value, or an allowance's line). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds the matchers once for many lines. */
function matcher(known: Known[]): (text: string) => Span[] {
  const plain = known.filter((k): k is KnownSecret => 'value' in k);
  for (const k of plain) {
    if (k.value.length < MIN_KNOWN_LENGTH) throw new Error(`log scan: the known secret "${k.label}" is ${k.value.length} characters; at least ${MIN_KNOWN_LENGTH} are needed to look for it`);
  }
  const labelOf = new Map(plain.map((k) => [k.value.toLowerCase(), k.label]));
  // one alternation, longest first so that a value containing another is named for itself
  const values = [...labelOf.keys()].sort((a, b) => b.length - a.length);
  const knownPattern = values.length ? new RegExp(values.map(escapeRegExp).join('|'), 'gi') : null;
  const hashLabel = new Map<string, string>();
  for (const k of known) if ('sha256' in k) for (const h of k.sha256) hashLabel.set(h.toLowerCase(), k.label);

  return (text) => {
    const spans: Span[] = [];
    if (knownPattern) {
      for (const m of text.matchAll(knownPattern)) spans.push({ start: m.index, end: m.index + m[0].length, label: labelOf.get(m[0].toLowerCase())! });
    }
    if (hashLabel.size) {
      for (const m of text.matchAll(B64URL_RUN)) {
        if (m[0].length !== 43 && !(m[0].length === 46 && m[0].startsWith('sw_'))) continue;
        const label = hashLabel.get(createHash('sha256').update(m[0]).digest('hex'));
        if (label) spans.push({ start: m.index, end: m.index + m[0].length, label });
      }
    }
    for (const shape of SHAPES) {
      for (const m of text.matchAll(shape.pattern)) {
        if (!shape.keep || shape.keep(m)) spans.push({ start: m.index, end: m.index + m[0].length, label: shape.label });
      }
    }
    return spans;
  };
}

/**
 * A JSON line as `path=value` pairs: values appear as they were logged, not escaped (a
 * secret with a quote in it is found, and the excerpt shows no escaped copy of it).
 */
function flatten(value: unknown, path: string, out: string[]): string[] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
  } else {
    out.push(`${path}=${String(value)}`);
  }
  return out;
}

/** The text to scan: a JSON object line flattened, any other line as it is. */
function scannable(raw: string): string {
  if (!raw.startsWith('{')) return raw;
  try {
    return flatten(JSON.parse(raw), '', []).join(' ');
  } catch {
    return raw;
  }
}

function redact(text: string, spans: Span[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  let first = -1;
  for (const s of sorted) {
    if (s.end <= at) continue;
    out += text.slice(at, Math.max(at, s.start));
    if (first < 0) first = out.length;
    out += `[${s.label}]`;
    at = s.end;
  }
  out += text.slice(at);
  const from = Math.max(0, first - 60);
  return `${from > 0 ? '…' : ''}${out.slice(from, from + 200)}${from + 200 < out.length ? '…' : ''}`;
}

/** Every line of `files` that holds a secret, one finding a line and label. */
export function findSecretsInLogs(files: string[], known: Known[], options: { allow?: Allowance[] } = {}): Finding[] {
  const match = matcher(known);
  const findings: Finding[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((raw, i) => {
      if (!raw) return;
      const text = scannable(raw);
      const allowed = new Set((options.allow ?? []).filter((a) => a.line.test(text)).flatMap((a) => a.labels));
      const spans = match(text).filter((s) => !allowed.has(s.label));
      if (!spans.length) return;
      const excerpt = redact(text, spans);
      for (const label of new Set(spans.map((s) => s.label))) findings.push({ file: relative(projectRoot, file), line: i + 1, label, excerpt });
    });
  }
  return findings;
}

/** The log files (`*.log`) in `dir`, those starting with `prefix` when given; none when `dir` is missing. */
export function logFilesIn(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.log'))
    .sort()
    .map((f) => join(dir, f));
}

/** A drill's own process logs in test-results/faults/logs/ (those kit.ts's drillLogFile named for it). */
export function drillLogFiles(drill: string): string[] {
  return logFilesIn(DRILL_LOG_DIR, `${drill}-`);
}

/** Findings as lines for a failure message: file:line label, then the redacted excerpt. */
export function formatFindings(findings: Finding[], most = 20): string {
  const shown = findings.slice(0, most).map((f) => `${f.file}:${f.line} ${f.label}\n    ${f.excerpt}`);
  if (findings.length > most) shown.push(`(and ${findings.length - most} more)`);
  return shown.join('\n');
}

/**
 * Throws, listing the findings, when any of `files` holds a secret; throws too when there
 * are no files or they are all empty, since a scan of nothing proves nothing.
 */
export function assertNoSecretsInLogs(files: string[], known: Known[], options: { allow?: Allowance[] } = {}): void {
  const lines = files.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').filter(Boolean).length, 0);
  if (lines === 0) throw new Error(`log scan: nothing to scan (${files.length} files, no lines)`);
  const findings = findSecretsInLogs(files, known, options);
  if (findings.length) throw new Error(`log scan: ${findings.length} lines hold secrets or personal data\n${formatFindings(findings)}`);
}

/**
 * What a database holds that must never be logged: every account's address and password
 * hash, unsubscribe tokens, push endpoints and keys, and the hashes of session and account
 * tokens; with how many of each, so a scan for nothing shows.
 */
export async function secretsInDatabase(pool: Queryable): Promise<{ known: Known[]; counts: Record<string, number> }> {
  const column = async (sql: string) => (await pool.query<{ v: string }>(sql)).rows.map((r) => r.v);
  const emails = await column(`SELECT email AS v FROM users`);
  // tests make users with a placeholder hash ('x'), which is no one's secret
  const passwordHashes = await column(`SELECT password_hash AS v FROM users WHERE length(password_hash) >= 20`);
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
}

/**
 * A drill's own process logs (test-results/faults/logs/<drill>*.log) scanned for what its
 * database holds, and for `extra` (keys the drill handed its processes).
 */
export async function assertDrillLogsClean(drill: string, pool: Queryable, extra: Known[] = []): Promise<void> {
  const { known } = await secretsInDatabase(pool);
  assertNoSecretsInLogs(drillLogFiles(drill), [...known, ...extra]);
}
