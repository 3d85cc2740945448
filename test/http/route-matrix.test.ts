/**
 * Every route × every kind of caller, against the table in route-matrix.ts: anonymous, the
 * CLIENT who owns the objects in the path, another CLIENT, an OPERATOR and an ADMIN. The
 * route list is the app's own, so a route without a row fails, and so does a row whose route
 * is gone. Each row gets fresh people and objects of the owner's, made through the app where
 * the app makes them (holds, bookings, push subscriptions); callers go in the order anon,
 * other, op, admin, owner, so the owner's object is still there for everyone who must not
 * touch it. Besides the status:
 *  - no one but the owner (and staff on staff routes) is shown the owner's ids or secrets,
 *    and the owner's own answer shows them where the row says it should;
 *  - nothing of the owner's changes under anyone else's request;
 *  - an ADMIN's session sent as a credential the route does not take counts as none;
 *  - on an API state change, the owner's learner cookie without the page's CSRF token is refused;
 *  - every answer is one the OpenAPI document lists, with a body that fits it.
 * Rate limits are lifted (the limits have tests of their own); sign-ins and new passwords
 * hash with cheap scrypt parameters, which a stored hash names itself.
 */
import webpush from 'web-push';
import { randomBytes } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/accounts/account-tokens.js';
import type { Role } from '../../src/accounts/roles.js';
import { createSession } from '../../src/accounts/sessions.js';
import { ADMIN_COOKIE, csrfTokenFor, CSRF_HEADER, SESSION_COOKIE } from '../../src/http/session.js';
import { futureSlots } from '../booking/helpers.js';
import { resolveAsPublic, useTestApp } from '../helpers/app.js';
import { insertSlot, insertUser, insertWatch } from '../helpers/factories.js';
import { documented, documentPath, type OpenApiDocument } from '../helpers/openapi.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';
import { CALLERS, MATRIX, newSubscription, type Caller, type Person, type Row, type World } from './route-matrix.js';

const vapid = webpush.generateVAPIDKeys();
const MANY = 1_000_000;
// every limit out of reach: this test is about who may, not how often (the limits have tests of their own)
const t = useTestApp(
  {
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    METRICS_TOKEN: 'metrics-token-no-session-is',
    LOGIN_LIMIT_PER_MINUTE: 100_000,
    LOGIN_LIMIT_PER_MINUTE_IP: MANY,
    HOLD_LIMIT_PER_MINUTE: 100_000,
    HOLD_LIMIT_PER_MINUTE_IP: MANY,
    REGISTER_LIMIT_PER_MINUTE: 100_000,
    REGISTER_LIMIT_PER_MINUTE_IP: MANY,
    ACCOUNT_EMAIL_LIMIT_PER_MINUTE: 100_000,
    ACCOUNT_EMAIL_LIMIT_PER_MINUTE_IP: MANY,
    PUSH_SUBSCRIBE_LIMIT_PER_MINUTE: 100_000,
    PUSH_SUBSCRIBE_LIMIT_PER_MINUTE_IP: MANY,
  },
  { lookupHost: resolveAsPublic },
);
// sign-ins and new passwords (sign-up, change): this test is about who may call what
useCheapHashes(t);

const PASSWORD = 'the matrix passphrase';
let passwordHash: string;
let hour = 0;
let doc: OpenApiDocument;
let expectDocumented: ReturnType<typeof documented>;
beforeAll(async () => {
  doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as OpenApiDocument;
  expectDocumented = documented(doc);
  passwordHash = await cheapHash(PASSWORD);
});

async function person(role: Role, signedIn = true): Promise<Person> {
  const user = await insertUser(t.ctx.pool, { role });
  await t.ctx.pool.query(`UPDATE users SET password_hash = $2 WHERE id = $1`, [user.id, passwordHash]);
  return { ...user, token: signedIn ? (await createSession(t.ctx.pool, user.id, 1)).token : '' };
}

async function asOwner(w: Pick<World, 'owner'>, method: 'POST', url: string, payload?: object): Promise<{ id: string }> {
  const res = await t.app.inject({ method, url, headers: { authorization: `Bearer ${w.owner.token}` }, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`setting up: ${method} ${url} answered ${res.statusCode} ${res.body}`);
  return (res.json().appointment ?? res.json().subscription) as { id: string };
}

/** A delayed job and a job scheduler on the maintenance queue, for the queue board's rows. */
async function queueObjects(): Promise<Pick<World, 'job' | 'scheduler'>> {
  const schedulerId = `matrix-${randomBytes(4).toString('hex')}`;
  const [job] = await Promise.all([
    t.queues.maintenance.add('matrix', {}, { delay: 3_600_000 }),
    t.queues.maintenance.upsertJobScheduler(schedulerId, { every: 3_600_000 }, { name: 'matrix' }),
  ]);
  return { job: { id: job.id! }, scheduler: { id: schedulerId } };
}

type People = Omit<World, 'job' | 'scheduler' | 'linkFor'>;
const linkFor: World['linkFor'] = (person, purpose) => issueToken(t.ctx.pool, person.id, purpose);

/** Fresh people and objects for one row. */
async function makeWorld(): Promise<World> {
  return { ...(await people()), ...(await queueObjects()), linkFor };
}

/** Fresh people, and the owner's objects: a watch, a hold, a booking, a push subscription, an alert. */
async function people(): Promise<People> {
  const pool = t.ctx.pool;
  const slotsMade = futureSlots(pool, 2).then(async ({ center, specialist, slots }) => {
    const theory = await insertSlot(pool, { centerId: center.id, specialistId: specialist.id, testType: 'theory', start: new Date(Date.now() + 30 * 86_400_000 + ++hour * 3_600_000) });
    return { center, specialist, free: slots[0]!, practical: slots[1]!, theory };
  });
  const [[owner, other, op, admin, spare], slots] = await Promise.all([
    Promise.all([person('CLIENT'), person('CLIENT'), person('OPERATOR'), person('ADMIN'), person('CLIENT', false)]),
    slotsMade,
  ]);
  const w = { owner };
  const push = newSubscription();
  const [[booking, hold], [watch, alert], subscription] = await Promise.all([
    (async () => {
      // one hold at a time: book the theory test first, then hold the practical one
      const booked = await asOwner(w, 'POST', `/api/slots/${slots.theory.id}/hold`);
      await asOwner(w, 'POST', `/api/appointments/${booked.id}/confirm`);
      return [booked, await asOwner(w, 'POST', `/api/slots/${slots.practical.id}/hold`)];
    })(),
    (async () => {
      const { id } = await insertWatch(pool, { userId: owner.id });
      const { rows } = await pool.query<{ unsubscribe_token: string }>(`SELECT unsubscribe_token FROM user_preferences WHERE id = $1`, [id]);
      const alerted = await pool.query<{ id: string }>(`INSERT INTO user_alerts (user_id, slot_id, preference_id) VALUES ($1, $2, $3) RETURNING id`, [owner.id, slots.free.id, id]);
      return [{ id, unsubscribeToken: rows[0]!.unsubscribe_token }, alerted.rows[0]!] as const;
    })(),
    asOwner(w, 'POST', '/api/me/push-subscriptions', push),
  ]);
  return {
    owner,
    other,
    op,
    admin,
    spare,
    password: PASSWORD,
    center: slots.center,
    specialist: slots.specialist,
    freeSlot: slots.free,
    watch,
    hold: hold!,
    heldSlot: slots.practical,
    booking: booking!,
    subscription: { id: subscription.id, endpoint: push.endpoint },
    alert,
  };
}

/** Everything stored about the owner, to compare before and after someone else's request. */
async function ownerState(w: World): Promise<unknown> {
  const { rows } = await t.ctx.pool.query(
    `SELECT json_build_object(
       'user', (SELECT to_jsonb(u) FROM users u WHERE u.id = $1),
       'watches', (SELECT json_agg(p ORDER BY p.id) FROM user_preferences p WHERE p.user_id = $1),
       'appointments', (SELECT json_agg(a ORDER BY a.id) FROM appointments a WHERE a.user_id = $1),
       'push', (SELECT json_agg(s ORDER BY s.id) FROM push_subscriptions s WHERE s.user_id = $1),
       'alerts', (SELECT json_agg(x ORDER BY x.id) FROM user_alerts x WHERE x.user_id = $1),
       'sessions', (SELECT json_agg(s ORDER BY s.token_hash) FROM sessions s WHERE s.user_id = $1)) AS state`,
    [w.owner.id],
  );
  return rows[0].state;
}

/** The owner's ids and secrets, by name, which only the owner may be answered. */
function ownerSecrets(w: World): Record<string, string> {
  return {
    'user id': w.owner.id,
    email: w.owner.email,
    'session token': w.owner.token,
    'watch id': w.watch.id,
    'unsubscribe token': w.watch.unsubscribeToken,
    'hold id': w.hold.id,
    'booking id': w.booking.id,
    'push subscription id': w.subscription.id,
    'push endpoint': w.subscription.endpoint,
    'alert id': w.alert.id,
  };
}

type Kind = 'bearer' | 'page' | 'board';

/** How a route's callers say who they are: the learner cookie on pages, the board's cookie under /admin, else a bearer token. */
function credentialOf(path: string, row: Row): Kind {
  if (row.auth) return row.auth;
  if (path.startsWith('/admin/')) return 'board';
  if (path.startsWith('/api/') || ['/healthz', '/readyz', '/metrics'].includes(path)) return 'bearer';
  return 'page';
}

// credentials a route must not take for its own: the API takes the learner cookie too (with a CSRF token)
const FOREIGN: Record<Kind, Kind[]> = { bearer: ['board'], page: ['bearer', 'board'], board: ['bearer', 'page'] };

/** One request of a row's walk: who sends it, how it says who it is, and what it must get. */
interface Attempt {
  caller: Caller;
  label: string;
  kind: Kind;
  /** Send the page's CSRF token with a cookie on a state change (false: leave it out). */
  csrf: boolean;
  expected: number;
}

/**
 * The row's callers, the owner last (its success may remove what the others must be refused),
 * and two more wherever a credential is needed: an ADMIN's session sent as a credential this
 * route does not take gets what anonymous gets, and on an API state change the owner's own
 * learner cookie without the page's CSRF token is refused, as another site's form would be.
 */
function attemptsFor(key: string, row: Row): Attempt[] {
  const [method, path] = key.split(' ') as [string, string];
  const kind = credentialOf(path, row);
  const status = (caller: Caller) => row.expect[CALLERS.indexOf(caller)]!;
  const plain = (caller: Caller): Attempt => ({ caller, label: caller, kind, csrf: true, expected: status(caller) });
  const attempts = (['anon', 'other', 'op', 'admin'] as const).map(plain);
  const refusesAnon = status('anon') === 401 || status('anon') === 303;
  if (refusesAnon && status('admin') !== status('anon')) {
    for (const foreign of FOREIGN[kind]) attempts.push({ caller: 'admin', label: `admin by ${foreign} credential`, kind: foreign, csrf: true, expected: status('anon') });
  }
  if (kind === 'bearer' && status('anon') === 401 && method !== 'GET') {
    attempts.push({ caller: 'owner', label: 'owner by cookie without CSRF token', kind: 'page', csrf: false, expected: 403 });
  }
  return [...attempts, plain('owner')];
}

async function requestFor(key: string, row: Row, w: World, attempt: Attempt): Promise<InjectOptions & { url: string }> {
  const [method, path] = key.split(' ') as [InjectOptions['method'] & string, string];
  const me = attempt.caller === 'anon' ? w.spare : w[attempt.caller];
  const built = (await row.request?.(w, me)) ?? {};
  const params = built.params ?? {};
  const fill = (name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${key}: the row gives no value for :${name}`);
    return encodeURIComponent(value);
  };
  const url = path.replace(/:(\w+)/g, (_m, name: string) => fill(name)).replace('*', () => params['*'] ?? '') + (built.query ? `?${built.query}` : '');
  const headers: Record<string, string> = {};
  if (attempt.caller !== 'anon') {
    if (attempt.kind === 'bearer') headers.authorization = `Bearer ${me.token}`;
    if (attempt.kind === 'page') {
      headers.cookie = `${SESSION_COOKIE}=${me.token}`;
      if (method !== 'GET' && attempt.csrf) headers[CSRF_HEADER] = csrfTokenFor(me.token);
    }
    if (attempt.kind === 'board') headers.cookie = `${ADMIN_COOKIE}=${me.token}`;
  }
  if (built.body === undefined) return { method, url, headers };
  if (built.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return { method, url, headers, payload: new URLSearchParams(built.body as Record<string, string>).toString() };
  }
  return { method, url, headers, payload: built.body as object };
}

let shared: Promise<People> | undefined;

describe('route × caller matrix', () => {
  it('has a row for every route the app registers, and none for a route it does not', () => {
    const registered = [...new Set(t.app.routeTable.map((r) => `${r.method} ${r.url}`))];
    const rows = Object.keys(MATRIX);
    expect(registered.filter((k) => !rows.includes(k)), 'routes with no row in route-matrix.ts').toEqual([]);
    expect(rows.filter((k) => !registered.includes(k)), 'rows in route-matrix.ts for routes the app does not have').toEqual([]);
  });

  for (const [key, row] of Object.entries(MATRIX)) {
    const path = key.split(' ')[1]!;
    // rows have people and objects of their own, so they run a few at a time; the queue
    // board's run alone, as one of them empties the queue the others' jobs are on
    const test = path.startsWith('/admin/queues') ? it : it.concurrent;
    test(key, async ({ expect }) => {
      const staffRoute = /^\/(api\/)?(operator|admin)\//.test(path);
      const problems: string[] = [];
      // A GET changes nothing (the owner's rows are compared around each one), and the queue
      // board reaches no one's rows and signs no one out: those rows share people and objects,
      // the board's with a job and a scheduler of their own (one row empties the queue).
      const sharing = (key.startsWith('GET ') || path.startsWith('/admin/queues/')) && !row.fresh;
      let w: World = sharing ? { ...(await (shared ??= people())), ...(await queueObjects()), linkFor } : await makeWorld();
      const attempts = attemptsFor(key, row);
      // the answer matches the API's own description, where it describes the route
      const operation = doc.paths[documentPath(path)]?.[key.split(' ')[0]!.toLowerCase()] ? `${key.split(' ')[0]} ${documentPath(path)}` : undefined;
      // the owner's rows as last read, while nothing since may have changed them
      let known: unknown;
      for (const attempt of attempts) {
        if (row.fresh && attempt !== attempts[0]) [w, known] = [await makeWorld(), undefined];
        const request = await requestFor(key, row, w, attempt);
        const isOwner = attempt.caller === 'owner';
        const before = isOwner && attempt.csrf ? undefined : (known ?? (await ownerState(w)));
        known = undefined;
        const res = await t.app.inject(request);
        const what = `${key} as ${attempt.label}`;
        if (res.statusCode !== attempt.expected) problems.push(`${what}: expected ${attempt.expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`);
        // a refused body would make the answer about the row's request, not about the caller
        if (res.statusCode === 400 && res.body.includes('"code":"VALIDATION_ERROR"')) problems.push(`${what}: the row's request is invalid: ${res.body.slice(0, 200)}`);
        if (operation) {
          try {
            expectDocumented(res, operation);
          } catch (err) {
            problems.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
          }
        }
        if (isOwner && attempt.csrf && row.ownerSees && res.statusCode < 300 && !res.body.includes(row.ownerSees(w))) {
          problems.push(`${what}: the owner's answer does not show ${row.ownerSees(w)}`);
        }
        if (before === undefined) continue;
        // staff get past the gate where their role is asked for, and then may see and change what they act on
        const staffActing = (attempt.label === 'op' || attempt.label === 'admin') && (staffRoute || row.actsOnOwner === 'staff');
        if (!staffActing && !isOwner) {
          // what the caller sent is theirs to see again (an id echoed in a 404's message)
          const sent = `${request.url} ${JSON.stringify(request.payload ?? '')}`;
          const answer = `${JSON.stringify(res.headers)} ${res.body}`;
          const seen = Object.entries(ownerSecrets(w)).filter(([, secret]) => !sent.includes(secret) && answer.includes(secret));
          if (seen.length) problems.push(`${what}: the answer shows the owner's ${seen.map(([name]) => name).join(', ')}`);
        }
        if (!staffActing && (row.actsOnOwner !== 'anyone' || isOwner)) {
          const after = await ownerState(w);
          if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`${what}: the owner's rows changed`);
          else known = after;
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

