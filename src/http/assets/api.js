// @ts-check
/**
 * The one way the pages call the API: JSON, same-origin cookie, the page's CSRF token on
 * anything that changes state. Failures come back as ApiError (the server's code and
 * message) or NetworkError (no answer at all), so each page can say which it was.
 */

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {string} [field] the body field it is about, when the server says */
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export class NetworkError extends Error {
  constructor() {
    super('We could not reach slotwatch, so nothing was changed. Check your connection and try again; what you entered is still here.');
    this.name = 'NetworkError';
  }
}

/** Milliseconds the server's clock is ahead of ours, from the Date header (whole seconds). */
let clockOffset = 0;

/** Now by the server's clock, so countdowns agree with when a hold really ends. */
export function serverNow() {
  return Date.now() + clockOffset;
}

/** The CSRF token the page was served with (updated after signing in). */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') ?? '' : '';
}

/**
 * Calls the API; resolves to the parsed JSON (null for 204).
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @param {Record<string, string>} [extraHeaders]
 * @returns {Promise<any>}
 */
export async function api(method, url, body, extraHeaders = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken();
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new NetworkError();
  }
  const date = Date.parse(res.headers.get('date') ?? '');
  // the header has whole seconds: only a clock clearly off is worth correcting for
  if (!Number.isNaN(date) && Math.abs(date - Date.now()) > 2000) clockOffset = date - Date.now();
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  if (!res.ok) {
    const error = data && typeof data === 'object' ? data.error : undefined;
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? `The server answered ${res.status}. Please try again.`, typeof error?.field === 'string' ? error.field : undefined);
  }
  return data;
}
