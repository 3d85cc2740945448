/**
 * Who may call what: every route the app registers, keyed `METHOD path` as fastify names it,
 * with the status each caller gets. route-matrix.test.ts walks the app's own route list
 * against this table, so a route added without a row here (or a row whose route is gone)
 * fails.
 *
 * The columns, in order:
 *   anon   no credential at all
 *   owner  the CLIENT whose objects (watch, hold, booking, push subscription, alert) fill the path
 *   other  another CLIENT, sending the owner's ids: someone else's things are a 404, never a 403
 *   op     an OPERATOR; admin  an ADMIN (staff are not the owner either)
 * A route about the caller alone (`/api/me/...`) has no object: owner and other each act on
 * their own account and get the same answer.
 *
 * How each caller says who it is follows the route: a bearer token for /api and the health
 * routes, the learner cookie `sw_session` for the learner pages (with the page's CSRF token on
 * a state change), and the queue board's cookie `sw_admin` under /admin.
 */
import { createECDH, randomBytes } from 'node:crypto';
import type { TokenPurpose } from '../../src/accounts/account-tokens.js';
import { csrfTokenFor } from '../../src/http/session.js';

export type Caller = 'anon' | 'owner' | 'other' | 'op' | 'admin';
export const CALLERS: readonly Caller[] = ['anon', 'owner', 'other', 'op', 'admin'];

export interface Person {
  id: string;
  email: string;
  token: string;
}

/** What one row's requests are made from: fresh people and objects, the owner's objects held by `owner`. */
export interface World {
  owner: Person;
  other: Person;
  op: Person;
  admin: Person;
  /** A CLIENT with no session: the account anonymous sign-in rows sign in to. */
  spare: Person;
  password: string;
  center: { id: string };
  specialist: { id: string };
  /** A free slot, which anybody may see and hold. */
  freeSlot: { id: string };
  watch: { id: string; unsubscribeToken: string };
  /** The owner's HOLD on a practical test, and its slot. */
  hold: { id: string };
  heldSlot: { id: string };
  /** The owner's CONFIRMED theory test (what an operator marks as a no-show). */
  booking: { id: string };
  subscription: { id: string; endpoint: string };
  alert: { id: string };
  /** A fresh emailed link (to verify the address, or reset the password) for someone's account. */
  linkFor(person: Person, purpose: TokenPurpose): Promise<string>;
  /** A delayed job on the maintenance queue, and a job scheduler there (queue board rows). */
  job: { id: string };
  scheduler: { id: string };
}

export interface Request {
  /** Path parameters by name; `*` for a wildcard. */
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** Send the body as an HTML form rather than JSON. */
  form?: boolean;
}

export interface Row {
  /** Statuses for anon, owner, other, op, admin. */
  expect: [number, number, number, number, number];
  /** The request, built for the caller (`me` is the acting person; for anon, `world.spare`). */
  request?: (w: World, me: Person) => Request | Promise<Request>;
  /** Something of the owner's that the owner's own answer shows (and no one else's may). */
  ownerSees?: (w: World) => string;
  /** Credential kind when the path does not say it (see `credentialOf`). */
  auth?: 'bearer' | 'page' | 'board';
  /** Each caller gets a world of its own: the first success would change what the next one meets. */
  fresh?: boolean;
  /**
   * Who besides the owner may change the owner's rows here by design: staff (a no-show), or
   * anyone who holds the secret in the path (one-click unsubscribe).
   */
  actsOnOwner?: 'staff' | 'anyone';
}

export const QUEUE = 'maintenance';
const WATCH = { location: { latitude: 51.5, longitude: -0.12 }, radiusMiles: 10, method: 'email', testTypes: ['practical'] };
const newEmail = () => `matrix-${randomBytes(6).toString('hex')}@example.com`;
let slotHour = 0;
/** A slot an hour long on its own hour, years ahead, so no two callers' batches overlap. */
const newSlotTimes = () => {
  const start = Date.UTC(2040, 0, 1) + ++slotHour * 3_600_000;
  return { startTime: new Date(start).toISOString(), endTime: new Date(start + 3_600_000).toISOString() };
};

const r = (expect: Row['expect'], more: Omit<Row, 'expect'> = {}): Row => ({ expect, ...more });
const body = (build: (w: World, me: Person) => unknown) => (w: World, me: Person) => ({ body: build(w, me) });
const id = (pick: (w: World) => { id: string }) => (w: World) => ({ params: { id: pick(w).id } });

// Bull Board's own routes: the board's hook answers 401 and 403 before Bull Board sees the
// request; what an admin gets is Bull Board's answer.
const board = (admin: number, request?: Row['request']): Row => r([401, 403, 403, 403, admin], { request });
const job = (w: World) => ({ params: { queueName: QUEUE, jobId: w.job.id } });
const queue = { params: { queueName: QUEUE } };

//            status for:  anon owner other  op  admin
export const MATRIX: Record<string, Row> = {
  // health and metrics: /metrics opens only to METRICS_TOKEN, never to a session of any role
  'GET /healthz': r([200, 200, 200, 200, 200]),
  'GET /readyz': r([200, 200, 200, 200, 200]),
  'GET /metrics': r([401, 401, 401, 401, 401]),

  // accounts: the public forms answer the same to anyone; anon signs in to a spare account
  'POST /api/auth/register': r([202, 202, 202, 202, 202], { request: body(() => ({ email: newEmail(), password: 'a long new secret' })) }),
  'POST /api/auth/login': r([200, 200, 200, 200, 200], { request: body((w, me) => ({ email: me.email, password: w.password })) }),
  'POST /api/auth/logout': r([401, 204, 204, 204, 204]),
  'GET /api/me': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.owner.email }),
  'POST /api/auth/verify': r([204, 204, 204, 204, 204], { request: async (w, me) => ({ body: { token: await w.linkFor(me, 'verify') } }) }),
  'POST /api/auth/verify/resend': r([202, 202, 202, 202, 202], { request: body((_w, me) => ({ email: me.email })) }),
  'POST /api/auth/password-reset': r([202, 202, 202, 202, 202], { request: body((_w, me) => ({ email: me.email })) }),
  'POST /api/auth/password-reset/confirm': r([204, 204, 204, 204, 204], {
    request: async (w, me) => ({ body: { token: await w.linkFor(me, 'reset'), newPassword: 'a long new secret' } }),
  }),
  'POST /api/me/password': r([401, 204, 204, 204, 204], { request: body((w) => ({ currentPassword: w.password, newPassword: 'a long new secret' })) }),
  'POST /api/me/sessions/revoke-all': r([401, 204, 204, 204, 204]),
  'POST /api/web/session': r([200, 200, 200, 200, 200], { request: body((w, me) => ({ email: me.email, password: w.password })) }),
  // signing out with no session is a no-op that clears the cookie: nothing to refuse
  'DELETE /api/web/session': r([204, 204, 204, 204, 204], { auth: 'page' }),

  // operator: staff only; a no-show is staff acting on the learner's booking by design
  'POST /api/operator/centers': r([401, 403, 403, 201, 201], { request: body(() => ({ name: 'Matrix', postcode: 'SW1A 1AA', latitude: 51.5, longitude: -0.12 })) }),
  'POST /api/operator/specialists': r([401, 403, 403, 201, 201], { request: body((w) => ({ fullName: 'Pat', serviceType: 'driving examiner', centerId: w.center.id })) }),
  'POST /api/operator/slots': r([401, 403, 403, 201, 201], {
    request: body((w) => ({ slots: [{ specialistId: w.specialist.id, testType: 'practical', ...newSlotTimes() }] })),
  }),
  'POST /api/operator/appointments/:id/no-show': r([401, 403, 403, 200, 200], { request: id((w) => w.booking), fresh: true, actsOnOwner: 'staff' }),

  // slots and bookings: a slot is public; an appointment is its owner's alone
  'GET /api/slots': r([200, 200, 200, 200, 200], { request: () => ({ query: 'lat=51.5&lon=-0.12' }) }),
  // the owner already holds a practical test, and a learner holds one slot at a time: past the auth check to the booking rule
  'POST /api/slots/:slotId/hold': r([401, 409, 201, 201, 201], { request: (w) => ({ params: { slotId: w.freeSlot.id } }), fresh: true }),
  'GET /api/appointments': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.hold.id }),
  'POST /api/appointments/:id/confirm': r([401, 200, 404, 404, 404], { request: id((w) => w.hold) }),
  'POST /api/appointments/:id/cancel': r([401, 200, 404, 404, 404], { request: id((w) => w.hold) }),

  // watches, under both names
  'GET /api/me/watches': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.watch.id }),
  'POST /api/me/watches': r([401, 201, 201, 201, 201], { request: body(() => WATCH) }),
  'PUT /api/me/watches/:id': r([401, 200, 404, 404, 404], { request: (w) => ({ params: { id: w.watch.id }, body: WATCH }) }),
  'DELETE /api/me/watches/:id': r([401, 204, 404, 404, 404], { request: id((w) => w.watch) }),
  'GET /api/me/preferences': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.watch.id }),
  'POST /api/me/preferences': r([401, 201, 201, 201, 201], { request: body(() => WATCH) }),
  'PUT /api/me/preferences/:id': r([401, 200, 404, 404, 404], { request: (w) => ({ params: { id: w.watch.id }, body: WATCH }) }),
  'DELETE /api/me/preferences/:id': r([401, 204, 404, 404, 404], { request: id((w) => w.watch) }),
  'GET /api/me/watches/coverage': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.watch.id }),
  'GET /api/web/watches': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.watch.id }),
  'GET /api/postcodes/:postcode': r([200, 200, 200, 200, 200], { request: () => ({ params: { postcode: 'SW1A 1AA' } }) }),

  // the caller's own settings and alerts
  'GET /api/me/quiet-hours': r([401, 200, 200, 200, 200]),
  'PUT /api/me/quiet-hours': r([401, 200, 200, 200, 200], { request: body(() => ({ quietHours: { start: '22:00', end: '07:00' } })) }),
  'GET /api/me/alerts': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.alert.id }),
  'GET /api/me/alert-cap': r([401, 200, 200, 200, 200]),
  'PUT /api/me/alert-cap': r([401, 200, 200, 200, 200], { request: body(() => ({ dailyCap: 5 })) }),

  // admin: ADMIN only
  'GET /api/admin/audit-logs': r([401, 403, 403, 403, 200]),
  'GET /api/admin/config': r([401, 403, 403, 403, 200]),
  'GET /api/admin/config/:key': r([401, 403, 403, 403, 200], { request: () => ({ params: { key: 'hold_minutes' } }) }),
  'PUT /api/admin/config/:key': r([401, 403, 403, 403, 200], { request: () => ({ params: { key: 'hold_minutes' }, body: { value: 7 } }) }),

  // push
  'GET /api/push/vapid-public-key': r([200, 200, 200, 200, 200]),
  'POST /api/me/push-subscriptions': r([401, 201, 201, 201, 201], { request: body(() => newSubscription()) }),
  'DELETE /api/me/push-subscriptions/:id': r([401, 204, 404, 404, 404], { request: id((w) => w.subscription) }),
  'DELETE /api/me/push-subscriptions': r([401, 204, 404, 404, 404], { request: body((w) => ({ endpoint: w.subscription.endpoint })) }),

  // your data: anyone signed in exports their own; only a CLIENT erases theirs
  'GET /api/me/export': r([401, 200, 200, 200, 200], { ownerSees: (w) => w.subscription.endpoint }),
  'DELETE /api/me': r([401, 204, 204, 403, 403], { request: body((w) => ({ password: w.password })) }),

  // the queue board's sign-in: only an ADMIN gets a board session
  'GET /admin/login': r([200, 200, 200, 200, 200]),
  'POST /admin/login': r([403, 403, 403, 403, 303], { request: (w, me) => ({ body: { email: me.email, password: w.password }, form: true }) }),
  'POST /admin/logout': r([303, 303, 303, 303, 303]),

  // the queue board (Bull Board)
  'GET /admin/queues': board(200),
  'GET /admin/queues/metrics-history': board(200),
  'GET /admin/queues/job-schedulers': board(200),
  'GET /admin/queues/queue/:queueName': board(200, () => queue),
  'GET /admin/queues/queue/:queueName/:jobId': board(200, job),
  'GET /admin/queues/api/redis/stats': board(200),
  'GET /admin/queues/api/queues': board(200),
  'GET /admin/queues/api/job-schedulers': board(200),
  'GET /admin/queues/api/queues/:queueName/metrics': board(200, () => queue),
  'GET /admin/queues/api/queues/:queueName/default-job-options': board(200, () => queue),
  'GET /admin/queues/api/queues/:queueName/workers': board(200, () => queue),
  'GET /admin/queues/api/queues/:queueName/rate-limit': board(200, () => queue),
  'GET /admin/queues/api/queues/:queueName/job-data-schema': board(200, () => queue),
  'PUT /admin/queues/api/queues/pause': board(200),
  'PUT /admin/queues/api/queues/resume': board(200),
  'GET /admin/queues/api/queues/:queueName/:jobId/logs': board(200, job),
  'GET /admin/queues/api/queues/:queueName/:jobId/flow': board(200, job),
  'GET /admin/queues/api/queues/:queueName/:jobId': board(200, job),
  'POST /admin/queues/api/queues/:queueName/add': board(200, () => ({ ...queue, body: { name: 'matrix', data: {} } })),
  'PUT /admin/queues/api/queues/:queueName/retry/:queueStatus': board(200, () => ({ params: { queueName: QUEUE, queueStatus: 'failed' } })),
  'PUT /admin/queues/api/queues/:queueName/promote': board(200, () => queue),
  'PUT /admin/queues/api/queues/:queueName/clean/:queueStatus': board(200, () => ({ params: { queueName: QUEUE, queueStatus: 'completed' } })),
  'PUT /admin/queues/api/queues/:queueName/pause': board(200, () => queue),
  'PUT /admin/queues/api/queues/:queueName/resume': board(200, () => queue),
  'PUT /admin/queues/api/queues/:queueName/concurrency': board(200, () => ({ ...queue, body: { concurrency: 2 } })),
  'PUT /admin/queues/api/queues/:queueName/rate-limit': board(200, () => ({ ...queue, body: { max: 10, duration: 1000 } })),
  'PUT /admin/queues/api/queues/:queueName/rate-limit/release': board(200, () => queue),
  'PUT /admin/queues/api/queues/:queueName/empty': board(200, () => queue),
  // only a paused queue may be obliterated: Bull Board's own refusal, after the gate
  'PUT /admin/queues/api/queues/:queueName/obliterate': board(400, () => ({ ...queue, body: { force: true } })),
  'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/remove': board(204, (w) => ({ params: { queueName: QUEUE, schedulerId: w.scheduler.id } })),
  'PATCH /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId': board(204, (w) => ({
    params: { queueName: QUEUE, schedulerId: w.scheduler.id },
    body: { every: 60_000 },
  })),
  'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/run': board(200, (w) => ({ params: { queueName: QUEUE, schedulerId: w.scheduler.id } })),
  // a delayed job is not one to retry: past the board's gate to Bull Board's own rule
  'PUT /admin/queues/api/queues/:queueName/:jobId/retry': board(400, job),
  'PUT /admin/queues/api/queues/:queueName/:jobId/clean': board(204, job),
  'PUT /admin/queues/api/queues/:queueName/:jobId/promote': board(204, job),
  'PATCH /admin/queues/api/queues/:queueName/:jobId/update-data': board(200, (w) => ({ ...job(w), body: { jobData: { matrix: true } } })),
  'PATCH /admin/queues/api/queues/:queueName/:jobId/delay': board(200, (w) => ({ ...job(w), body: { runAt: Date.now() + 60_000 } })),
  'PATCH /admin/queues/api/queues/:queueName/:jobId/priority': board(200, (w) => ({ ...job(w), body: { priority: 1 } })),
  // the job has no children: Bull Board's own refusal, after the gate
  'PUT /admin/queues/api/queues/:queueName/:jobId/remove-unprocessed-children': board(400, job),
  'GET /admin/queues/static/*': board(200, () => ({ params: { '*': 'favicon-32x32.png' } })),

  // one-click unsubscribe: the secret token is the proof, whoever sends it
  'GET /unsubscribe/:token': r([200, 200, 200, 200, 200], { request: (w) => ({ params: { token: w.watch.unsubscribeToken } }) }),
  'POST /unsubscribe/:token': r([200, 200, 200, 200, 200], { request: (w) => ({ params: { token: w.watch.unsubscribeToken } }), fresh: true, actsOnOwner: 'anyone' }),

  // learner pages: signed out, a page that needs an account sends the browser to sign in
  'GET /assets/*': r([200, 200, 200, 200, 200], { request: () => ({ params: { '*': 'style.css' } }) }),
  'GET /': r([303, 303, 303, 303, 303]),
  'GET /signin': r([200, 303, 303, 303, 303]),
  'GET /signup': r([200, 303, 303, 303, 303]),
  'POST /signout': r([303, 303, 303, 303, 303], { request: (_w, me) => ({ body: { _csrf: csrfTokenFor(me.token) }, form: true }) }),
  'GET /watches': r([303, 200, 200, 200, 200]),
  'GET /appointments': r([303, 200, 200, 200, 200]),
  'GET /alerts': r([303, 200, 200, 200, 200]),
  'GET /account': r([303, 200, 200, 200, 200], { ownerSees: (w) => w.owner.email }),
  'GET /account/deleted': r([200, 200, 200, 200, 200]),
  // the owner's held slot: its page shows the owner their hold, and anyone else only the slot
  'GET /slots/:id': r([200, 200, 200, 200, 200], { request: id((w) => w.heldSlot), ownerSees: (w) => w.hold.id }),
  'GET /verify': r([200, 200, 200, 200, 200]),
  'GET /forgot-password': r([200, 200, 200, 200, 200]),
  'GET /reset-password': r([200, 200, 200, 200, 200]),
  'GET /sw.js': r([200, 200, 200, 200, 200]),

  // the API's own description
  'GET /api/openapi.json': r([200, 200, 200, 200, 200]),
  'GET /api/docs': r([200, 200, 200, 200, 200]),
  'GET /api/docs/static/index.html': r([302, 302, 302, 302, 302]),
  'GET /api/docs/static/swagger-initializer.js': r([200, 200, 200, 200, 200]),
  'GET /api/docs/json': r([200, 200, 200, 200, 200]),
  'GET /api/docs/yaml': r([200, 200, 200, 200, 200]),
  'GET /api/docs/static/*': r([200, 200, 200, 200, 200], { request: () => ({ params: { '*': 'swagger-ui.css' } }) }),
};

/** A browser's push subscription: a P-256 key and 16 bytes of auth, on an endpoint of its own. */
export function newSubscription(): { endpoint: string; keys: { p256dh: string; auth: string } } {
  return { endpoint: `https://push.example.net/wpush/${randomBytes(12).toString('base64url')}`, keys: newPushKeys() };
}

function newPushKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}
