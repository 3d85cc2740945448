/**
 * Checks on a browser's PushSubscription that the table's format checks cannot express,
 * and the rule for where a push may go: a push endpoint is a URL a user hands us and our
 * worker then POSTs to, so it may only reach the public internet (https, port 443, no
 * credentials, a host whose every address is public), never our own network.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { Config } from '../config.js';
import { nonPublicKind } from './public-addresses.js';

/** Why `keys` cannot be used to encrypt a push message, or null when they can (RFC 8291). */
export function subscriptionKeysProblem(p256dh: string, auth: string): string | null {
  const point = Buffer.from(p256dh, 'base64url');
  // an uncompressed P-256 point: 0x04 then 32 bytes of x and 32 of y
  if (point.length !== 65 || point[0] !== 0x04) return 'keys.p256dh must be a base64url uncompressed P-256 public key (65 bytes)';
  if (Buffer.from(auth, 'base64url').length !== 16) return 'keys.auth must be a base64url 16-byte secret';
  return null;
}

export interface EndpointPolicy {
  /** PUSH_ALLOW_LOCAL_ENDPOINTS: http, any port, loopback and private addresses (local test receivers only). */
  allowLocal: boolean;
  /** PUSH_ENDPOINT_HOSTS: the host patterns allowed (`*.googleapis.com`); empty allows any public host. */
  hosts: string[];
}

/** The endpoint rules this configuration asks for. */
export function endpointPolicy(config: Pick<Config, 'PUSH_ALLOW_LOCAL_ENDPOINTS' | 'PUSH_ENDPOINT_HOSTS'>): EndpointPolicy {
  return { allowLocal: config.PUSH_ALLOW_LOCAL_ENDPOINTS, hosts: config.PUSH_ENDPOINT_HOSTS ?? [] };
}

/** A resolver: every address of a host name (dns.lookup with all: true by default; tests answer their own). */
export type HostLookup = (hostname: string) => Promise<dns.LookupAddress[]>;

export const systemLookup: HostLookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** `hostname` as URL gives it, without IPv6 brackets or a trailing dot, lower-cased. */
function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

function hostAllowed(host: string, patterns: string[]): boolean {
  return patterns.some((p) => (p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p));
}

/**
 * Why `endpoint` is not an address we will post to, judged from the URL alone (scheme,
 * port, credentials, allowed hosts, and an IP-literal host, in whatever form the URL
 * parser normalised it from: `https://2130706433/` is 127.0.0.1), or null. A host name
 * still has to pass `endpointAddressProblem` (registration) or the sender's lookup.
 */
export function endpointProblem(endpoint: string, policy: EndpointPolicy): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint must be a URL';
  }
  if (url.protocol !== 'https:' && !(policy.allowLocal && url.protocol === 'http:')) {
    return policy.allowLocal ? 'endpoint must be an http or https URL' : 'endpoint must be an https URL';
  }
  if (url.username || url.password) return 'endpoint must not carry a user name or password';
  if (url.port && !policy.allowLocal) return 'endpoint must use the https port (443)';
  const host = bareHost(url.hostname);
  if (policy.hosts.length && !hostAllowed(host, policy.hosts)) return 'endpoint host is not a push service this server sends to';
  if (net.isIP(host) && !policy.allowLocal) {
    const kind = nonPublicKind(host);
    if (kind) return `endpoint host is ${kind} (${host})`;
  }
  return null;
}

/**
 * Why a host whose addresses are these may not be posted to, or null when every one is
 * public. `showAddress` names the address too: for the sender's own records, not for a
 * caller, who would otherwise learn what our resolver says about internal names.
 */
export function addressesProblem(addresses: readonly dns.LookupAddress[], showAddress: boolean): string | null {
  if (!addresses.length) return 'endpoint host does not resolve';
  // every address, not just one: a name with one public and one private record would let
  // the connection (or its fallback to the next address) reach the private one
  for (const { address } of addresses) {
    const kind = nonPublicKind(address);
    if (kind) return `endpoint host resolves to ${kind}${showAddress ? ` (${address})` : ''}`;
  }
  return null;
}

const LOOKUP_TIMEOUT_MS = 5000;
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * Registration's check: endpointProblem, then the host's addresses as `lookup` gives them
 * now (the sender checks again on the addresses it connects to).
 */
export async function endpointAddressProblem(endpoint: string, policy: EndpointPolicy, lookup: HostLookup = systemLookup): Promise<string | null> {
  const problem = endpointProblem(endpoint, policy);
  if (problem || policy.allowLocal) return problem;
  const host = bareHost(new URL(endpoint).hostname);
  if (net.isIP(host)) return null; // checked above
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })), LOOKUP_TIMEOUT_MS);
    });
    return addressesProblem(await Promise.race([lookup(host), timeout]), false);
  } catch (err) {
    return NOT_FOUND.has(String((err as { code?: unknown }).code)) ? 'endpoint host does not resolve' : 'endpoint host could not be resolved just now; try again later';
  } finally {
    clearTimeout(timer);
  }
}

/** What the sender's lookup fails a connection with when a host resolves to a non-public address. */
export class NonPublicAddressError extends Error {
  override name = 'NonPublicAddressError';
  readonly code = 'ENONPUBLIC';
}

/**
 * A `lookup` for an https agent that resolves with `lookup` and fails the connection
 * unless every address is public: the check runs on the addresses the socket then
 * connects to, so a name that answered a public address at registration and a private
 * one now (DNS rebinding) gets no connection.
 */
export function publicOnlyLookup(lookup: HostLookup = systemLookup): net.LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname).then(
      (all) => {
        const problem = addressesProblem(all, true);
        if (problem) {
          callback(all.length ? new NonPublicAddressError(problem) : Object.assign(new Error(problem), { code: 'ENOTFOUND' }), '');
          return;
        }
        const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const fit = family ? all.filter((a) => a.family === family) : all;
        if (!fit.length) callback(Object.assign(new Error(`endpoint host has no IPv${family} address`), { code: 'ENOTFOUND' }), '');
        else if (options.all) callback(null, fit);
        else callback(null, fit[0]!.address, fit[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
