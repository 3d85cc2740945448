/**
 * How a send went wrong, as the processors need to know it: worth retrying (perhaps not
 * before a time the receiver named) and when, or never going to work.
 */

/** A passing failure (SMTP 4xx, push 429/5xx, a refused connection): try again later. */
export class RetryableSendError extends Error {
  override name = 'RetryableSendError';
  constructor(
    message: string,
    /** The receiver's Retry-After, in milliseconds from now, when it gave one. */
    readonly retryAfterMs: number | null = null,
    /**
     * The receivers (see retry-wake.ts) that refused as a whole, not this message alone: an
     * SMTP server that did not answer or said 421, a push service unreachable or answering
     * 5xx without Retry-After. Once one accepts again, the retries waiting on it are woken.
     */
    readonly receiversDown: string[] = [],
  ) {
    super(message);
  }
}

/** A failure that will not change on retry (SMTP 5xx for the address, a malformed subscription). */
export class PermanentSendError extends Error {
  override name = 'PermanentSendError';
}

/**
 * Milliseconds from `now` that a Retry-After header value asks for (delta-seconds or an
 * HTTP date), or null when there is none or it cannot be read.
 */
export function parseRetryAfter(value: string | string[] | undefined | null, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Longest wait between two tries of one alert: past it the slot is likely gone anyway. */
export const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * How long to wait before try number `attempt + 1`: exponential from `baseMs`, with
 * "equal jitter" (half fixed, half random) so a burst of failures does not come back as
 * a burst, and never sooner than the receiver's Retry-After.
 */
export function retryDelayMs(attempt: number, baseMs: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.ceil(Math.max(jittered, retryAfterMs ?? 0));
}
