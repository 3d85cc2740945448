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
