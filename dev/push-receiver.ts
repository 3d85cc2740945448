/**
 * A real web push endpoint for tests: an HTTP server that plays the push service. Each
 * subscription it hands out has its own P-256 key pair and auth secret (node:crypto ECDH),
 * as a browser's would. For every request it checks the VAPID JWT (ES256 signature with
 * the key in `k=`, which must be the expected public key; `aud` = this origin; not
 * expired; a subject), decrypts the body per RFC 8291 with http_ece using the
 * subscription's private key, and records the payload with the TTL, Urgency and Topic
 * headers. Responses can be scripted per subscription (404, 410, 429 + Retry-After, 500),
 * or for every subscription at once while an outage lasts (`setOutage`); either way the
 * request is still checked and decrypted first, as the endpoint a sender talks to.
 *
 * With `{ decrypt: 'later' }` it answers as a real push service does, which cannot read
 * the end-to-end encrypted body: the JWT is checked on receipt and the body kept, and
 * `decryptPending()` decrypts every kept body afterwards (the delivery benchmark, so that
 * the browser's share of the work is not charged to the sender's machine).
 */
import { createECDH, createPublicKey, randomBytes, randomUUID, verify, type ECDH, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

// http_ece ships no types; this is the one call we make
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(body: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer;
};

export interface PushRequestRecord {
  subscriptionId: string;
  /** What we answered. */
  status: number;
  vapid: { valid: boolean; reason?: string; aud?: string; sub?: string; exp?: number };
  ttl: string | undefined;
  urgency: string | undefined;
  topic: string | undefined;
  /** The decrypted JSON payload, or null when it could not be decrypted (undefined until decryptPending() in 'later' mode). */
  payload: unknown;
  decryptError?: string;
  receivedAt: number;
}

export interface TestSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
}

export interface PushReceiver {
  readonly origin: string;
  readonly requests: PushRequestRecord[];
  /** Requests answered 201 (delivered). */
  delivered(): PushRequestRecord[];
  /** A new subscription whose endpoint is on this receiver. */
  subscribe(): TestSubscription;
  /** The next responses for one subscription, in order; after them it answers 201. */
  script(subscriptionId: string, responses: ScriptedResponse[]): void;
  /**
   * Until called again with null, answers every request with `response` (a push service
   * answering 500 or 503 for a while); scripted responses wait until it ends.
   */
  setOutage(response: ScriptedResponse | null): void;
  /** Resolves once at least `n` requests were answered 201. */
  waitForDelivered(n: number, timeoutMs?: number): Promise<PushRequestRecord[]>;
  /** 'later' mode: decrypts every body kept since the last call into its record; returns how many. */
  decryptPending(): number;
  close(): Promise<void>;
}

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

// a sender reuses one JWT for many messages, as real push services expect: verify each
// distinct token once (its expiry is still checked on every request)
const verifiedTokens = new Map<string, { aud?: string; sub?: string; exp?: number }>();
const publicKeys = new Map<string, KeyObject>();

/** Verifies `Authorization: vapid t=<jwt>, k=<key>` per RFC 8292. */
function checkVapid(header: string | undefined, expectedKey: string, origin: string): PushRequestRecord['vapid'] {
  const cached = verifiedTokens.get(`${header}|${expectedKey}|${origin}`);
  if (cached) {
    return cached.exp && cached.exp * 1000 > Date.now() ? { valid: true, ...cached } : { valid: false, reason: 'exp out of range', ...cached };
  }
  const result = verifyVapid(header, expectedKey, origin);
  if (result.valid) verifiedTokens.set(`${header}|${expectedKey}|${origin}`, { aud: result.aud, sub: result.sub, exp: result.exp });
  return result;
}

function verifyVapid(header: string | undefined, expectedKey: string, origin: string): PushRequestRecord['vapid'] {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) return { valid: false, reason: 'no vapid Authorization header' };
  const [, jwt, k] = m as unknown as [string, string, string];
  if (k !== expectedKey) return { valid: false, reason: 'k is not the expected VAPID public key' };
  const parts = jwt.split('.');
  if (parts.length !== 3) return { valid: false, reason: 'malformed JWT' };
  const [h, p, s] = parts as [string, string, string];
  const head = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  if (head.alg !== 'ES256') return { valid: false, reason: `alg ${head.alg}` };
  const raw = Buffer.from(k, 'base64url'); // 0x04 || x || y
  let key = publicKeys.get(k);
  if (!key) {
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33, 65)) }, format: 'jwk' });
    publicKeys.set(k, key);
  }
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud?: string; sub?: string; exp?: number };
  const base = { aud: claims.aud, sub: claims.sub, exp: claims.exp };
  if (!ok) return { valid: false, reason: 'bad signature', ...base };
  if (claims.aud !== origin) return { valid: false, reason: `aud ${claims.aud} is not ${origin}`, ...base };
  if (!claims.exp || claims.exp * 1000 <= Date.now() || claims.exp * 1000 > Date.now() + 24 * 3600_000) return { valid: false, reason: 'exp out of range', ...base };
  if (!claims.sub || !/^(mailto:|https:)/.test(claims.sub)) return { valid: false, reason: 'no subject', ...base };
  return { valid: true, ...base };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

type Subscription = { ecdh: ECDH; auth: string; script: ScriptedResponse[] };

/** Decrypts one aes128gcm body for the subscription; the JSON payload or why not. */
function decryptBody(sub: Subscription, contentEncoding: string | undefined, body: Buffer): { payload: unknown; decryptError?: string } {
  try {
    if (contentEncoding !== 'aes128gcm') throw new Error(`content-encoding ${contentEncoding}`);
    const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth });
    return { payload: JSON.parse(plain.toString('utf8')) };
  } catch (err) {
    return { payload: null, decryptError: (err as Error).message };
  }
}

/** Starts a push endpoint that expects JWTs signed with `vapidPublicKey`. */
export async function startPushReceiver(vapidPublicKey: string, options: { decrypt?: 'on-receipt' | 'later' } = {}): Promise<PushReceiver> {
  const subs = new Map<string, Subscription>();
  const requests: PushRequestRecord[] = [];
  const pending: { record: PushRequestRecord; sub: Subscription; contentEncoding: string | undefined; body: Buffer }[] = [];
  const later = options.decrypt === 'later';
  const waiters = new Set<() => void>();
  let origin = '';
  let outage: ScriptedResponse | null = null;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1];
      const sub = id ? subs.get(id) : undefined;
      if (!id || !sub || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const vapid = checkVapid(req.headers.authorization, vapidPublicKey, origin);
      const contentEncoding = req.headers['content-encoding'];
      const { payload, decryptError } = later ? { payload: undefined, decryptError: undefined } : decryptBody(sub, contentEncoding, body);
      const scripted = outage ?? sub.script.shift();
      const status = !vapid.valid ? 403 : decryptError ? 400 : (scripted?.status ?? 201);
      const headers: Record<string, string> = { ...(scripted?.headers ?? {}) };
      if (status === 201) headers.location = `${origin}/message/${randomUUID()}`;
      const record: PushRequestRecord = {
        subscriptionId: id,
        status,
        vapid,
        ttl: req.headers.ttl as string | undefined,
        urgency: req.headers.urgency as string | undefined,
        topic: req.headers.topic as string | undefined,
        payload,
        ...(decryptError ? { decryptError } : {}),
        receivedAt: Date.now(),
      };
      requests.push(record);
      if (later) pending.push({ record, sub, contentEncoding, body });
      res.writeHead(status, headers).end();
      for (const w of waiters) w();
    })().catch(() => res.writeHead(500).end());
  });
  // fetch keeps connections alive; do not let them hold close() up
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const delivered = () => requests.filter((r) => r.status === 201);
  return {
    origin,
    requests,
    delivered,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = b64url(randomBytes(16));
      const id = randomUUID();
      subs.set(id, { ecdh, auth, script: [] });
      return { id, endpoint: `${origin}/push/${id}`, keys: { p256dh: b64url(ecdh.getPublicKey()), auth } };
    },
    script(subscriptionId, responses) {
      const sub = subs.get(subscriptionId);
      if (!sub) throw new Error(`no subscription ${subscriptionId}`);
      sub.script.push(...responses);
    },
    setOutage(response) {
      outage = response;
    },
    waitForDelivered(n, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (delivered().length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(delivered());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${n} pushes delivered, got ${delivered().length} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    decryptPending() {
      const n = pending.length;
      for (const { record, sub, contentEncoding, body } of pending.splice(0)) Object.assign(record, decryptBody(sub, contentEncoding, body));
      return n;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
