/**
 * Sending web push: web-push encrypts the payload (RFC 8291, aes128gcm) and builds the
 * request; we sign the VAPID JWT once per push service per ~50 minutes rather than per
 * message, and post through keep-alive agents that reuse connections (web-push's own
 * sender opens a new TLS connection for every message and speaks only https).
 */
import http from 'node:http';
import https from 'node:https';
import webpush from 'web-push';
import type { Config } from '../config.js';
import type { LiveSubscription } from './store.js';
import { endpointPolicy, endpointProblem, NonPublicAddressError, publicOnlyLookup, systemLookup, type HostLookup } from '../watches/push-endpoints.js';
import { scrubReason } from '../log.js';
import { parseRetryAfter } from './send-errors.js';
import type { PushPayload } from './templates.js';

export type PushOutcome =
  | { kind: 'accepted'; subscriptionId: string; messageId: string | null }
  | { kind: 'gone'; subscriptionId: string; status: number }
  /** `receiverDown`: the push service as a whole failed (unreachable, or 5xx without Retry-After), not this message alone */
  | { kind: 'retry'; subscriptionId: string; reason: string; retryAfterMs: number | null; receiverDown: boolean }
  | { kind: 'permanent'; subscriptionId: string; reason: string };

export interface PushOptions {
  /** Seconds the push service may hold the message for an offline browser. */
  ttlSeconds: number;
  /** Replaces an undelivered earlier message with the same topic (at most 32 base64url chars). */
  topic: string;
}

export interface PushSender {
  send(subscription: LiveSubscription, payload: PushPayload, options: PushOptions): Promise<PushOutcome>;
}

const JWT_LIFETIME_S = 3600;
const JWT_REUSE_MS = 50 * 60_000;
// well inside DELIVERY_LEASE_SECONDS: a send must end before its claim could be retaken
const REQUEST_TIMEOUT_MS = 20_000;

type Agents = { 'http:': http.Agent; 'https:': https.Agent };

/**
 * Keep-alive agents for one sender. node:http(s) rather than fetch: undici's web streams
 * cost noticeably more CPU per request, which shows at a thousand pushes a second. Unless
 * local endpoints are allowed, every connection's host is resolved through
 * publicOnlyLookup, so the address connected to is the address checked.
 */
function createAgents(allowLocal: boolean, lookup: HostLookup): Agents {
  const guard = allowLocal ? {} : { lookup: publicOnlyLookup(lookup) };
  return {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 256, ...guard }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 256, ...guard }),
  };
}

/** POSTs one push message; resolves with what the push service answered. */
function post(
  agents: Agents,
  endpoint: string,
  headers: Record<string, string | number>,
  body: Buffer | null,
): Promise<{ status: number; location: string | null; retryAfter: string | null }> {
  return new Promise((resolve, reject) => {
    const url = new URL(endpoint);
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(
      url,
      { method: 'POST', headers, agent: agents[url.protocol as 'http:' | 'https:'], timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        res.resume(); // drain, so the connection goes back to the pool
        res.on('end', () => {
          const header = (name: string) => {
            const v = res.headers[name];
            return (Array.isArray(v) ? v[0] : v) ?? null;
          };
          resolve({ status: res.statusCode ?? 0, location: header('location'), retryAfter: header('retry-after') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** A topic for a slot: its uuid without dashes is exactly 32 base64url characters. */
export function slotTopic(slotId: string): string {
  return slotId.replace(/-/g, '');
}

/** Whether this deployment can send web push at all (both VAPID keys set). */
export function pushConfigured(config: Pick<Config, 'VAPID_PUBLIC_KEY' | 'VAPID_PRIVATE_KEY'>): boolean {
  return Boolean(config.VAPID_PUBLIC_KEY && config.VAPID_PRIVATE_KEY);
}

export interface PushSenderOptions {
  /** Resolves endpoint hosts before each new connection (dns.lookup by default). */
  lookupHost?: HostLookup;
}

/** A PushSender for the configured VAPID keys; null when none are configured. */
export function createPushSender(config: Config, options: PushSenderOptions = {}): PushSender | null {
  const { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey, VAPID_SUBJECT: subject } = config;
  if (!pushConfigured(config) || !publicKey || !privateKey) return null;
  const policy = endpointPolicy(config);
  const agents = createAgents(policy.allowLocal, options.lookupHost ?? systemLookup);
  const jwtByAudience = new Map<string, { authorization: string; reuseUntil: number }>();

  function authorization(endpoint: string): string {
    const audience = new URL(endpoint).origin; // RFC 8292: aud is the push resource's origin
    const cached = jwtByAudience.get(audience);
    if (cached && cached.reuseUntil > Date.now()) return cached.authorization;
    const expiration = Math.floor(Date.now() / 1000) + JWT_LIFETIME_S;
    const headers = webpush.getVapidHeaders(audience, subject, publicKey!, privateKey!, 'aes128gcm', expiration);
    const entry = { authorization: String(headers.Authorization), reuseUntil: Date.now() + JWT_REUSE_MS };
    jwtByAudience.set(audience, entry);
    return entry.authorization;
  }

  return {
    async send(sub, payload, options) {
      // the HTTP route checks this too, but rows written before a rule changed, or another
      // way, must not make us post anywhere; a host name's addresses are checked as it connects
      const badEndpoint = endpointProblem(sub.endpoint, policy);
      if (badEndpoint) return { kind: 'permanent', subscriptionId: sub.id, reason: `endpoint refused: ${badEndpoint}` };
      let request: ReturnType<typeof webpush.generateRequestDetails>;
      try {
        request = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, JSON.stringify(payload), {
          TTL: options.ttlSeconds,
          urgency: 'high',
          topic: options.topic,
          // null (not undefined) stops web-push signing a JWT of its own, even if some code called
          // setVapidDetails; its typings only know undefined
          vapidDetails: null as unknown as undefined,
          headers: { Authorization: authorization(sub.endpoint) },
        });
      } catch (err) {
        // bad keys (wrong length, not on the curve) or a bad endpoint: no retry will help
        return { kind: 'permanent', subscriptionId: sub.id, reason: `malformed subscription: ${scrubReason((err as Error).message)}` };
      }
      let response: { status: number; location: string | null; retryAfter: string | null };
      try {
        response = await post(agents, request.endpoint, request.headers, request.body);
      } catch (err) {
        // the host resolves to our own network now: no retry will make that a push service
        if (err instanceof NonPublicAddressError) return { kind: 'permanent', subscriptionId: sub.id, reason: `endpoint refused: ${err.message}` };
        return { kind: 'retry', subscriptionId: sub.id, reason: `push service unreachable: ${scrubReason((err as Error).message)}`, retryAfterMs: null, receiverDown: true };
      }
      const status = response.status;
      if (status >= 200 && status < 300) return { kind: 'accepted', subscriptionId: sub.id, messageId: response.location };
      if (status === 404 || status === 410) return { kind: 'gone', subscriptionId: sub.id, status };
      if (status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(response.retryAfter);
        return { kind: 'retry', subscriptionId: sub.id, reason: `push service answered ${status}`, retryAfterMs, receiverDown: status >= 500 && retryAfterMs === null };
      }
      // 400 (malformed), 401/403 (our VAPID refused), 413 (payload too big): the same again fails again
      return { kind: 'permanent', subscriptionId: sub.id, reason: `push service answered ${status}` };
    },
  };
}
