/**
 * Follows the loop as it runs: prints each release when the worker has matched it, waits
 * for the deliveries to settle, and counts what the local SMTP server and push endpoint
 * actually received against who should have been told.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { PushReceiver } from '../../dev/push-receiver.js';
import { waitForQuietPipeline } from '../../dev/pipeline.js';
import type { SmtpReceiver } from '../../dev/smtp-receiver.js';
import type { PublishedSlot } from './api.js';
import type { Seeded } from './seed.js';

export interface StepReport {
  label: string;
  slots: number;
  expected: number;
  alerted: number;
  /** Alerts (learner, slot) that reached the learner, in a message of their own or in a digest. */
  told: number;
  /** Alerts recorded but not sent: the learner's daily cap was reached. */
  capped: number;
  /** Messages received: one email or push may carry several alerts (a digest). */
  emails: number;
  pushes: number;
  missing: number;
  unexpected: number;
  duplicates: number;
  /** From the release to the message being accepted by the receiver, in seconds, for alerts sent at once. */
  p50: number | null;
  p95: number | null;
  /** Alerts that went in a digest (the learner had just been told), and their median wait from the release. */
  digested: number;
  digestP50: number | null;
}

const SLOT_LINKS = /\/slots\/([0-9a-f-]{36})/g;
const DIGEST_MESSAGE_ID = /^<digest-([0-9a-f-]{36})@/;
/** A digest push's Topic is its message id without dashes. */
const uuidOfTopic = (t: string) => `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`;
/** How long a step may take beyond the digest window. */
const STEP_MARGIN_MS = 90_000;

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export class Progress {
  private readonly townOf: Map<string, string>;
  private readonly emailOf: Map<string, string>;
  private readonly timeoutMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly smtp: SmtpReceiver,
    private readonly push: PushReceiver,
    private readonly userBySubscription: Map<string, string>,
    seeded: Seeded,
    private readonly say: (line: string) => void,
    /** alert_digest_seconds: a step's digests go out that long after its first messages. */
    digestSeconds: number,
  ) {
    this.timeoutMs = digestSeconds * 1000 + STEP_MARGIN_MS;
    this.townOf = new Map(seeded.centers.map((c) => [c.id, c.town]));
    this.emailOf = new Map(seeded.learners.map((l) => [l.userId, l.email.toLowerCase()]));
  }

  /** Waits until no release is unmatched and no alert is still on its way. */
  async waitForQuietPipeline(): Promise<void> {
    await waitForQuietPipeline(this.pool, this.timeoutMs);
  }

  /**
   * Messages the receivers got that tell of `slotIds`: each message once (`slotIds` its
   * slots among them), as (userId, slots, receivedAt, channel). A digest lists ten slots
   * and links the rest, so its slots are the alerts it carried, found by its Message-ID
   * (email) or Topic (push).
   */
  private async received(slotIds: Set<string>) {
    const out: { userId: string; slots: string[]; at: number; channel: 'email' | 'push'; digest: boolean }[] = [];
    const userByEmail = new Map([...this.emailOf].map(([id, email]) => [email, id]));
    const carried = async (messageId: string) =>
      (await this.pool.query<{ slot_id: string }>(`SELECT slot_id FROM user_alerts WHERE message_id = $1::uuid AND status = 'DIGESTED'`, [messageId])).rows.map(
        (r) => r.slot_id,
      );
    for (const m of this.smtp.messages) {
      const userId = userByEmail.get((m.envelopeTo[0] ?? '').toLowerCase());
      const digest = DIGEST_MESSAGE_ID.exec(String(m.parsed.messageId ?? ''))?.[1];
      const slots = digest ? await carried(digest) : [...(m.parsed.text ?? '').matchAll(SLOT_LINKS)].map((x) => x[1]!).slice(0, 1);
      const mine = slots.filter((s) => slotIds.has(s));
      if (userId && mine.length) out.push({ userId, slots: mine, at: m.receivedAt, channel: 'email', digest: Boolean(digest) });
    }
    for (const r of this.push.delivered()) {
      const payload = r.payload as { slotId?: string | null; slotIds?: string[] } | null;
      const userId = this.userBySubscription.get(r.subscriptionId);
      const digest = !payload?.slotId && Boolean(payload?.slotIds && r.topic);
      const slots = payload?.slotId ? [payload.slotId] : digest ? await carried(uuidOfTopic(r.topic!)) : [];
      const mine = slots.filter((s) => slotIds.has(s));
      if (userId && mine.length) out.push({ userId, slots: mine, at: r.receivedAt, channel: 'push', digest });
    }
    return out;
  }

  /**
   * Prints each of `slots`' releases as the worker matches it, waits for their alerts to be
   * delivered, and compares them with `expected` (who should be told, computed apart).
   */
  async follow(label: string, slots: PublishedSlot[], expected: { userId: string; slotId: string }[]): Promise<StepReport> {
    const ids = slots.map((s) => s.id);
    const slotIds = new Set(ids);
    const since = new Date(Date.now() - 1000);
    const printed = new Set<string>();
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; slot_id: string; reason: string; processed: boolean; alerts: number | null; center_id: string; test_type: string; start: string }>(
        `SELECT r.id::text, r.slot_id, r.reason, r.processed_at IS NOT NULL AS processed, r.alerts_created AS alerts,
                s.center_id, s.test_type::text, to_char(s.start_time AT TIME ZONE 'Europe/London', 'Dy DD Mon HH24:MI') AS start
           FROM slot_releases r JOIN time_slots s ON s.id = r.slot_id
          WHERE r.slot_id = ANY($1::uuid[]) AND r.released_at >= $2 ORDER BY r.id`,
        [ids, since],
      );
      for (const r of rows.filter((r) => r.processed && !printed.has(r.id))) {
        printed.add(r.id);
        this.say(`  released  ${this.townOf.get(r.center_id)} ${r.test_type} ${r.start} (${r.reason}) → ${r.alerts ?? 0} learners alerted`);
      }
      // an alert is on its way while PENDING or SENDING, or while the digest carrying it is
      const { rows: pending } = await this.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM user_alerts a LEFT JOIN alert_messages m ON m.id = a.message_id
          WHERE a.slot_id = ANY($1::uuid[])
            AND (a.status IN ('PENDING', 'SENDING') OR (a.status = 'DIGESTED' AND m.status IN ('PENDING', 'SENDING')))`,
        [ids],
      );
      const allMatched = rows.length >= slots.length && rows.every((r) => r.processed);
      if (allMatched && pending[0]!.n === '0') break;
      if (Date.now() > deadline) throw new Error(`"${label}": not every release was matched and delivered within ${this.timeoutMs / 1000} s`);
      await sleep(200);
    }
    // give the receivers a moment for messages accepted just as the rows turned SENT
    await sleep(300);

    const { rows: alerts } = await this.pool.query<{ user_id: string; slot_id: string; status: string; released: Date }>(
      `SELECT a.user_id, a.slot_id, a.status::text,
              (SELECT max(r.released_at) FROM slot_releases r WHERE r.slot_id = a.slot_id AND r.released_at <= a.created_at) AS released
         FROM user_alerts a WHERE a.slot_id = ANY($1::uuid[]) AND a.created_at >= $2`,
      [ids, since],
    );
    const key = (u: string, s: string) => `${u}/${s}`;
    const want = new Set(expected.map((e) => key(e.userId, e.slotId)));
    const got = new Set(alerts.map((a) => key(a.user_id, a.slot_id)));
    const messages = await this.received(slotIds);
    const tellings = messages.flatMap((m) => m.slots.map((slotId) => ({ ...m, slotId })));
    const counts = new Map<string, number>();
    for (const m of tellings) counts.set(key(m.userId, m.slotId), (counts.get(key(m.userId, m.slotId)) ?? 0) + 1);
    const releasedAt = new Map(alerts.map((a) => [key(a.user_id, a.slot_id), a.released.getTime()]));
    // an alert sent at once is held to the one-second promise; one gathered into a digest
    // waits for the digest window by design, so its wait is reported apart
    const latencies = (digest: boolean) =>
      tellings
        .filter((m) => m.digest === digest)
        .map((m) => (m.at - (releasedAt.get(key(m.userId, m.slotId)) ?? m.at)) / 1000)
        .sort((a, b) => a - b);
    const atOnce = latencies(false);
    const inDigests = latencies(true);
    const capped = alerts.filter((a) => a.status === 'CAPPED').length;
    const report: StepReport = {
      label,
      slots: slots.length,
      expected: want.size,
      alerted: got.size,
      told: counts.size,
      capped,
      emails: messages.filter((m) => m.channel === 'email').length,
      pushes: messages.filter((m) => m.channel === 'push').length,
      // an alert over the learner's daily cap is recorded, not sent: it is not missing
      missing: [...want].filter((k) => !counts.has(k) && !alerts.some((a) => a.status === 'CAPPED' && key(a.user_id, a.slot_id) === k)).length,
      unexpected: [...counts.keys()].filter((k) => !want.has(k)).length + [...got].filter((k) => !want.has(k)).length,
      duplicates: [...counts.values()].filter((n) => n > 1).length,
      p50: percentile(atOnce, 50),
      p95: percentile(atOnce, 95),
      digested: inDigests.length,
      digestP50: percentile(inDigests, 50),
    };
    const lat =
      (report.p50 === null ? '' : ` · sent at once: release→received p50 ${report.p50.toFixed(2)} s, p95 ${report.p95!.toFixed(2)} s`) +
      (report.digestP50 === null ? '' : ` · ${report.digested} in digests after p50 ${report.digestP50.toFixed(1)} s`);
    this.say(
      `  ${label}: ${report.alerted} alerts (expected ${report.expected}), ${report.told} told, ${report.capped} capped · ${report.emails + report.pushes} messages: ${report.emails} emails, ${report.pushes} pushes${lat}`,
    );
    return report;
  }

  /** Prints the summary table; true when every expected alert arrived exactly once and nothing else did. */
  summary(steps: StepReport[]): boolean {
    const header = ['step', 'slots', 'expected', 'alerts', 'told', 'capped', 'messages', 'emails', 'pushes', 'missing', 'extra', 'dupes', 'p50 s', 'p95 s', 'digested', 'digest p50 s'];
    const rows = steps.map((s) => [
      s.label,
      s.slots,
      s.expected,
      s.alerted,
      s.told,
      s.capped,
      s.emails + s.pushes,
      s.emails,
      s.pushes,
      s.missing,
      s.unexpected,
      s.duplicates,
      s.p50?.toFixed(2) ?? '-',
      s.p95?.toFixed(2) ?? '-',
      s.digested,
      s.digestP50?.toFixed(1) ?? '-',
    ].map(String));
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log('\nSummary\n' + line(header) + '\n' + rows.map(line).join('\n'));
    const ok = steps.every((s) => s.missing === 0 && s.unexpected === 0 && s.duplicates === 0 && s.alerted === s.expected && s.told + s.capped === s.expected);
    const alerts = steps.reduce((n, s) => n + s.told, 0);
    const messages = steps.reduce((n, s) => n + s.emails + s.pushes, 0);
    console.log(`\n${alerts} alerts reached their learners in ${messages} messages (digests carry several).`);
    console.log('p50 and p95 are from the release to the receiver for alerts sent at once; an alert for a learner told moments before waits for their digest.');
    console.log(ok ? 'Every expected alert arrived exactly once.' : 'SOME ALERTS WENT WRONG: see missing / extra / dupes above.');
    return ok;
  }
}
