/**
 * What the booking drills share: learners with real sessions who search, hold, confirm and
 * cancel over real HTTP (fetch, keep-alive), retrying a request that met no answer as a
 * client would (the same Idempotency-Key on a hold), and a ledger of every request and
 * its answers; then a check of that ledger against the database. A request whose
 * connection was cut after it was sent, or that was answered 503, has an outcome the
 * client cannot know; the check says whether the database applied it, and that it did so
 * fully (history, audit and slot status with it) or not at all.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createSession } from '../../src/accounts/sessions.js';
import type { Queryable } from '../../src/db/types.js';
import { seededRandom } from '../../src/random.js';
import { futureSlots, invariantViolations } from '../booking/helpers.js';
import { insertSlot, insertUser } from '../helpers/factories.js';
import type { Known } from '../helpers/log-scan.js';

type TestType = 'practical' | 'theory';

export interface Learner {
  id: string;
  email: string;
  token: string;
}

export interface BookingFixture {
  learners: Learner[];
  slots: { id: string; testType: TestType }[];
  latitude: number;
  longitude: number;
}

/**
 * `learners` verified learners, each signed in (a session as sign-in makes one; no password
 * hashing, which would cost the drill seconds), and free future slots at one centre:
 * `practical` with an examiner, `theory` without, none overlapping another.
 */
export async function seedBookingFixture(pool: Queryable, o: { learners: number; practical: number; theory: number }): Promise<BookingFixture> {
  const latitude = 51.5;
  const longitude = -0.12;
  const { center, slots } = await futureSlots(pool, o.practical, { latitude, longitude });
  const theory = [];
  // after the practical slots (a week ahead, an hour apart), within search's default 90 days
  const base = Date.now() + 40 * 86_400_000;
  for (let i = 0; i < o.theory; i++) theory.push(await insertSlot(pool, { centerId: center.id, testType: 'theory', start: new Date(base + i * 3_600_000) }));
  const learners: Learner[] = [];
  for (let i = 0; i < o.learners; i++) {
    const user = await insertUser(pool);
    learners.push({ id: user.id, email: user.email, token: (await createSession(pool, user.id, 2)).token });
  }
  return {
    learners,
    slots: [...slots.map((s) => ({ id: s.id, testType: 'practical' as const })), ...theory.map((s) => ({ id: s.id, testType: 'theory' as const }))],
    latitude,
    longitude,
  };
}

export type OpKind = 'search' | 'list' | 'hold' | 'confirm' | 'cancel';

/** One request as the client meant it, with every try it took. */
export interface Op {
  kind: OpKind;
  learner: string;
  /** The slot (hold) or appointment (confirm, cancel). */
  target?: string;
  idempotencyKey?: string;
  tries: number;
  /** Tries whose connection was refused: never sent. */
  refused: number;
  /** Tries sent whose connection ended with no answer. */
  cutOff: number;
  /** Tries answered 503. */
  unavailable: number;
  /** The answer the client settled on; absent when it gave up. */
  final?: { status: number; code?: string; appointmentId?: string; replayed: boolean };
}

export interface LoadResult {
  ops: Op[];
  /** Every answer (each try), by status. */
  statuses: Record<number, number>;
  /** When each answer other than a 5xx arrived (ms since the epoch), in order. */
  answeredAt: number[];
  /** Holds the drill let run out (the learner walked away; their time moved on). */
  abandoned: Set<string>;
  startedAt: number;
  endedAt: number;
}

export interface LoadOptions {
  baseUrl: string;
  fixture: BookingFixture;
  /** Requests to make in all (each search, list, hold, confirm or cancel is one). */
  ops: number;
  clients: number;
  seed: number;
  /** Makes a hold's time run out (its expiry moved to now); false when that could not be done. */
  expireHold: (appointmentId: string) => Promise<boolean>;
  /** How long one request is tried before the client gives up on it. */
  giveUpMs?: number;
  /** No request is started after this time (ms since the epoch), so a machine too slow for `ops` still ends with figures. */
  stopAt?: number;
}

/** Whether an error from fetch means the connection was refused (the request never left). */
function refusedConnection(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'ECONNREFUSED') return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the load to its end; the caller's faults happen meanwhile. */
export async function runBookingLoad(o: LoadOptions): Promise<LoadResult> {
  const random = seededRandom(o.seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const giveUpMs = o.giveUpMs ?? 60_000;
  const result: LoadResult = { ops: [], statuses: {}, answeredAt: [], abandoned: new Set(), startedAt: Date.now(), endedAt: 0 };
  let started = 0;

  async function request(op: Op, method: 'GET' | 'POST', path: string, token: string): Promise<unknown> {
    result.ops.push(op);
    const giveUpAt = Date.now() + giveUpMs;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (op.idempotencyKey) headers['idempotency-key'] = op.idempotencyKey;
    while (Date.now() < giveUpAt) {
      op.tries++;
      let status: number;
      let text: string;
      let replayed: boolean;
      let retryAfter: string | null;
      try {
        const res = await fetch(`${o.baseUrl}${path}`, { method, headers, signal: AbortSignal.timeout(20_000) });
        ({ status } = res);
        replayed = res.headers.get('idempotent-replayed') === 'true';
        retryAfter = res.headers.get('retry-after');
        text = await res.text();
      } catch (err) {
        if (refusedConnection(err)) op.refused++;
        else op.cutOff++;
        // backing off, as a client does, up to a second: a crowd retrying flat out would slow the restart it waits for
        await sleep(Math.min(1000, 50 * 2 ** (op.refused + op.cutOff)) * (0.5 + random()));
        continue;
      }
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (status < 500) result.answeredAt.push(Date.now());
      let body: { error?: { code: string }; appointment?: { id: string } } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        // not our JSON (a proxy's page, a body cut short): the status is what counts
      }
      if (status === 503) {
        op.unavailable++;
        // as asked: Retry-After, with jitter so a crowd does not come back at once
        await sleep(Math.min(Number(retryAfter ?? 1), 5) * 1000 * (0.5 + random()));
        continue;
      }
      op.final = { status, code: body.error?.code, appointmentId: body.appointment?.id, replayed };
      return body;
    }
    return undefined;
  }

  const uncertain = (op: Op) => op.cutOff > 0 || op.unavailable > 0 || !op.final;
  const stopAt = o.stopAt ?? Number.POSITIVE_INFINITY;
  const took = () => (started < o.ops && Date.now() < stopAt ? (started++, true) : false);

  async function learnerLoop(learner: Learner): Promise<void> {
    let hold: { id: string; testType: TestType } | undefined;
    const booked = new Map<TestType, string>();
    const op = (kind: OpKind, target?: string, idempotencyKey?: string): Op => ({ kind, learner: learner.id, target, idempotencyKey, tries: 0, refused: 0, cutOff: 0, unavailable: 0 });

    // what a client does when it cannot tell what happened: reads its appointments again
    async function resync(): Promise<void> {
      if (!took()) return;
      const body = (await request(op('list'), 'GET', '/api/appointments', learner.token)) as
        | { appointments: { id: string; status: string; expiresAt: string | null; slot: { testType: TestType } }[] }
        | undefined;
      if (!body?.appointments) return;
      hold = undefined;
      booked.clear();
      for (const a of body.appointments) {
        if (a.status === 'HOLD' && Date.parse(a.expiresAt!) > Date.now()) hold = { id: a.id, testType: a.slot.testType };
        if (a.status === 'CONFIRMED') booked.set(a.slot.testType, a.id);
      }
    }

    while (took()) {
      const r = random();
      let done: Op;
      if (hold && r < 0.1) {
        // walks away from the hold; some come back later and try to confirm it anyway
        const walkedAway = hold;
        if (await o.expireHold(walkedAway.id)) {
          result.abandoned.add(walkedAway.id);
          hold = random() < 0.5 ? walkedAway : undefined;
        }
        started--; // not a request
        continue;
      } else if (hold && r < 0.7) {
        done = op('confirm', hold.id);
        await request(done, 'POST', `/api/appointments/${hold.id}/confirm`, learner.token);
        if (done.final?.status === 200) booked.set(hold.testType, hold.id);
        if (done.final?.status === 200 || done.final?.code === 'HOLD_EXPIRED') hold = undefined;
      } else if (hold && r < 0.85) {
        done = op('cancel', hold.id);
        await request(done, 'POST', `/api/appointments/${hold.id}/cancel`, learner.token);
        hold = undefined;
      } else if (!hold && booked.size > 0 && r < 0.2) {
        const [testType, id] = pick([...booked.entries()]);
        done = op('cancel', id);
        await request(done, 'POST', `/api/appointments/${id}/cancel`, learner.token);
        booked.delete(testType);
      } else {
        const testType: TestType = random() < 0.6 ? 'practical' : 'theory';
        const { latitude, longitude } = o.fixture;
        done = op('search');
        const found = (await request(done, 'GET', `/api/slots?lat=${latitude}&lon=${longitude}&testType=${testType}&limit=20`, learner.token)) as
          | { slots: { id: string }[] }
          | undefined;
        // mostly a slot the search showed; now and then one from an old page, perhaps taken
        const slotId = random() < 0.9 ? (found?.slots.length ? pick(found.slots).id : undefined) : pick(o.fixture.slots.filter((s) => s.testType === testType)).id;
        if (slotId && !hold && took()) {
          done = op('hold', slotId, `drill-${randomUUID()}`);
          await request(done, 'POST', `/api/slots/${slotId}/hold`, learner.token);
          if (done.final?.status === 201) hold = { id: done.final.appointmentId!, testType };
        }
      }
      if (uncertain(done) || done.final?.code === 'ALREADY_HOLDING' || done.final?.code === 'APPOINTMENT_NOT_ACTIVE') await resync();
    }
  }

  const learners = o.fixture.learners.slice(0, o.clients);
  await Promise.all(learners.map((l) => learnerLoop(l)));
  result.endedAt = Date.now();
  return result;
}

/** The longest time with no answer (2xx or 4xx) from the first request to the last answer, in ms. */
export function longestSilenceMs(result: LoadResult): number {
  let gap = 0;
  let last = result.startedAt;
  for (const t of result.answeredAt) {
    gap = Math.max(gap, t - last);
    last = t;
  }
  return gap;
}

/**
 * For each fault, how long from it to the first answer after the service was back (`backAt`;
 * answers before that may be to requests the failed process had already finished), in ms.
 */
export function recoveryMs(result: LoadResult, faults: { at: number; backAt: number }[]): number[] {
  return faults.map(({ at, backAt }) => {
    const next = result.answeredAt.find((t) => t >= backAt);
    return next === undefined ? Number.POSITIVE_INFINITY : next - at;
  });
}

export interface LedgerCheck {
  /** Everything that disagrees, one line each (empty when the database and the ledger agree). */
  violations: string[];
  /** Requests whose outcome the client could not know (cut off, or answered 503 at first), by what the database shows. */
  uncertain: { applied: number; notApplied: number };
  /** Final 4xx answers to holds, confirms and cancels, each checked to have left nothing. */
  refusalsChecked: number;
  /** Requests the client gave up on. */
  gaveUp: number;
}

/**
 * The ledger against the database: the booking invariants (test/booking/helpers.ts); each
 * appointment's history a chain from HOLD_PLACED to its status; every hold the database has
 * made by a drill hold (its Idempotency-Key stored in the same transaction); every 2xx
 * there, in that state or a later one the learner asked for; every 4xx without a trace;
 * every state change by a learner asked for by a 2xx or a request of unknown outcome; an
 * expiry only for a hold the drill let run out; a release for each cancel.
 */
export async function checkLedger(pool: pg.Pool, load: LoadResult, fixture: BookingFixture): Promise<LedgerCheck> {
  const violations = (await invariantViolations(pool)).map((v) => `invariant: ${v}`);
  const userIds = fixture.learners.map((l) => l.id);
  const { rows: appointments } = await pool.query<{ id: string; user_id: string; slot_id: string; status: string }>(
    `SELECT id, user_id, slot_id, status::text FROM appointments WHERE user_id = ANY($1::uuid[])`,
    [userIds],
  );
  const { rows: events } = await pool.query<{ appointment_id: string; event_type: string; from_status: string | null; to_status: string; actor: string }>(
    `SELECT e.appointment_id, e.event_type, e.from_status::text, e.to_status::text, e.actor
       FROM appointment_events e JOIN appointments a ON a.id = e.appointment_id
      WHERE a.user_id = ANY($1::uuid[]) ORDER BY e.id`,
    [userIds],
  );
  const { rows: keys } = await pool.query<{ user_id: string; key: string; status_code: number; appointment_id: string | null }>(
    `SELECT user_id, key, status_code, response->'appointment'->>'id' AS appointment_id FROM idempotency_keys WHERE user_id = ANY($1::uuid[])`,
    [userIds],
  );

  const byId = new Map(appointments.map((a) => [a.id, a]));
  const eventsOf = new Map<string, typeof events>();
  for (const e of events) eventsOf.set(e.appointment_id, [...(eventsOf.get(e.appointment_id) ?? []), e]);

  // each history a chain: placed as a hold, each change from the state the last one left
  for (const a of appointments) {
    const chain = eventsOf.get(a.id) ?? [];
    if (chain[0]?.event_type !== 'HOLD_PLACED') violations.push(`appointment ${a.id}: history starts with ${chain[0]?.event_type ?? 'nothing'}`);
    for (let i = 1; i < chain.length; i++) {
      if (chain[i]!.from_status !== chain[i - 1]!.to_status) violations.push(`appointment ${a.id}: ${chain[i]!.event_type} from ${chain[i]!.from_status} after ${chain[i - 1]!.to_status}`);
    }
    if (chain.at(-1)?.to_status !== a.status) violations.push(`appointment ${a.id} is ${a.status} but its history ends at ${chain.at(-1)?.to_status}`);
    for (const e of chain) {
      if (e.event_type === 'HOLD_EXPIRED' && !load.abandoned.has(a.id)) violations.push(`appointment ${a.id} expired though its hold had time left`);
      if (!['HOLD_PLACED', 'HOLD_EXPIRED', 'CONFIRMED', 'CANCELLED'].includes(e.event_type)) violations.push(`appointment ${a.id}: unexpected ${e.event_type}`);
    }
  }

  let applied = 0;
  let notApplied = 0;
  let refusalsChecked = 0;
  const unknownOutcome = (op: Op) => op.cutOff > 0 || op.unavailable > 0 || !op.final;
  const count = (op: Op, wasApplied: boolean) => {
    if (!unknownOutcome(op)) return;
    if (wasApplied) applied++;
    else notApplied++;
  };

  // holds: every appointment from a drill hold whose key committed with it, and each key's answer as the client saw it
  const holdOps = new Map(load.ops.filter((op) => op.kind === 'hold').map((op) => [`${op.learner} ${op.idempotencyKey}`, op]));
  const keyOf = new Map(keys.map((k) => [`${k.user_id} ${k.key}`, k]));
  for (const k of keys) {
    const op = holdOps.get(`${k.user_id} ${k.key}`);
    const a = k.appointment_id ? byId.get(k.appointment_id) : undefined;
    if (!op) violations.push(`idempotency key ${k.key} stored for a hold no client sent`);
    else if (!a || a.user_id !== op.learner || a.slot_id !== op.target) violations.push(`hold ${k.key} stored an answer naming appointment ${k.appointment_id}, which is not the learner's hold of ${op.target}`);
  }
  const heldByKey = new Set(keys.map((k) => k.appointment_id));
  for (const a of appointments) if (!heldByKey.has(a.id)) violations.push(`appointment ${a.id} was written by no hold a client sent (no stored answer)`);
  for (const op of holdOps.values()) {
    const k = keyOf.get(`${op.learner} ${op.idempotencyKey}`);
    if (op.final?.status === 201 && k?.appointment_id !== op.final.appointmentId) violations.push(`hold ${op.idempotencyKey} answered 201 (${op.final.appointmentId}) but the database holds ${k?.appointment_id ?? 'nothing'}`);
    if (op.final && op.final.status >= 400) {
      refusalsChecked++;
      if (k) violations.push(`hold ${op.idempotencyKey} answered ${op.final.status} ${op.final.code} but left a hold behind`);
    }
    count(op, k !== undefined);
  }

  // confirms and cancels: each learner's change has an answer that explains it, and each 2xx its change
  const change = { confirm: 'CONFIRMED', cancel: 'CANCELLED' } as const;
  for (const kind of ['confirm', 'cancel'] as const) {
    const ops = load.ops.filter((op) => op.kind === kind);
    const byTarget = new Map<string, Op[]>();
    for (const op of ops) byTarget.set(op.target!, [...(byTarget.get(op.target!) ?? []), op]);
    const changed = new Set(events.filter((e) => e.event_type === change[kind] && e.actor === 'user').map((e) => e.appointment_id));
    for (const id of changed) {
      const asked = byTarget.get(id) ?? [];
      if (!asked.some((op) => (op.final && op.final.status < 300) || unknownOutcome(op))) {
        violations.push(`appointment ${id} was ${change[kind]} though every ${kind} of it was refused (${asked.map((op) => op.final?.code).join(', ') || 'none sent'})`);
      }
    }
    for (const op of ops) {
      const isChanged = changed.has(op.target!);
      if (op.final && op.final.status < 300 && !isChanged) violations.push(`${kind} of ${op.target} answered ${op.final.status} but the database has no ${change[kind]}`);
      if (op.final && op.final.status >= 400) refusalsChecked++;
      count(op, isChanged);
    }
  }

  // every cancel released its slot to the alert loop; an expiry at most once each
  const { rows: rel } = await pool.query<{ reason: string; n: number }>(
    `SELECT reason, count(*)::int AS n FROM slot_releases WHERE slot_id = ANY($1::uuid[]) AND reason <> 'created' GROUP BY reason`,
    [fixture.slots.map((s) => s.id)],
  );
  const released = Object.fromEntries(rel.map((r) => [r.reason, r.n]));
  const cancelled = events.filter((e) => e.event_type === 'CANCELLED').length;
  const expired = events.filter((e) => e.event_type === 'HOLD_EXPIRED').length;
  if ((released.cancelled ?? 0) !== cancelled) violations.push(`${cancelled} cancels but ${released.cancelled ?? 0} releases for them`);
  if ((released.hold_expired ?? 0) > expired) violations.push(`${released.hold_expired} releases of expired holds but ${expired} expiries`);

  return { violations, uncertain: { applied, notApplied }, refusalsChecked, gaveUp: load.ops.filter((op) => !op.final).length };
}

/** What the processes under test must never log: each learner's address and bearer token. */
export function learnerSecrets(fixture: BookingFixture): Known[] {
  return fixture.learners.flatMap((l) => [
    { label: 'learner email', value: l.email },
    { label: 'bearer token', value: l.token },
  ]);
}

/** Waits until every hold the drill let run out has been expired (by the worker's sweep, or inline by a later hold). */
export async function waitForExpiries(pool: pg.Pool, abandoned: Set<string>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM appointments WHERE id = ANY($1::uuid[]) AND status = 'HOLD'`, [[...abandoned]]);
    if (rows[0]!.n === 0 || Date.now() > deadline) return rows[0]!.n;
    await sleep(250);
  }
}

/** Answers by class over every try: 2xx, 4xx, 503 and any other 5xx. */
export function statusClasses(statuses: Record<number, number>): { '2xx': number; '4xx': number; '503': number; otherServerErrors: number } {
  const sum = (test: (s: number) => boolean) => Object.entries(statuses).reduce((n, [s, c]) => (test(Number(s)) ? n + c : n), 0);
  return { '2xx': sum((s) => s < 300), '4xx': sum((s) => s >= 400 && s < 500), '503': sum((s) => s === 503), otherServerErrors: sum((s) => s >= 500 && s !== 503) };
}
