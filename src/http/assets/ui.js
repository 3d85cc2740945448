// @ts-check
/**
 * Messages on the page: the live regions in every page's shell (#alert for errors, read
 * out at once; #status for progress) and error text next to a form's field.
 */
import { ApiError, NetworkError } from './api.js';

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** Says `text` politely (progress, success). */
export function announce(text) {
  const status = byId('status');
  status.textContent = '';
  // a fresh text node after clearing makes screen readers read the same words again
  setTimeout(() => { status.textContent = text; }, 30);
}

/**
 * Shows an error at the top of the page, read out at once; `link` adds a way forward.
 * @param {string} text @param {{ href: string, text: string }} [link]
 */
export function showAlert(text, link) {
  const alert = byId('alert');
  alert.textContent = text;
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.text;
    alert.append(' ', a);
  }
}

export function clearMessages() {
  byId('alert').textContent = '';
  byId('status').textContent = '';
}

/** @param {HTMLFormElement} form */
export function clearFieldErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/**
 * Puts `message` next to field `id` (its `<id>-error` slot), marks the field invalid and
 * moves focus to it so the label and the message are read together.
 * @param {string} id @param {string} message
 */
export function showFieldError(id, message) {
  const slot = document.getElementById(`${id}-error`);
  if (!slot) return false;
  slot.textContent = message;
  const input = document.getElementById(id);
  const target = input ?? slot.closest('fieldset')?.querySelector('input');
  if (target) {
    if (input) input.setAttribute('aria-invalid', 'true');
    /** @type {HTMLElement} */ (target).focus();
  }
  return true;
}

const SENTENCE = (s) => s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');

/**
 * The field a validation message names ("body/radiusMiles must be <= 100" → radiusMiles)
 * and the message without the path.
 * @param {string} message
 */
export function fieldOfMessage(message) {
  const m = /^(?:body|querystring)\/([A-Za-z]+)(?:\/[^\s]*)?\s+(.*)$/.exec(message);
  if (!m) return null;
  return { field: m[1], text: m[2] };
}

/**
 * The schema checker's phrasing in plain words: "must be <= 100" → "must be 100 or less".
 * @param {string} text
 */
export function plainWords(text) {
  return text
    .replace(/^must be <= (\S+)$/, 'must be $1 or less')
    .replace(/^must be >= (\S+)$/, 'must be $1 or more')
    .replace(/^must be < (\S+)$/, 'must be less than $1')
    .replace(/^must be > (\S+)$/, 'must be more than $1')
    .replace(/^must match format "date"$/, 'must be a date')
    .replace(/^must NOT have fewer than (\d+) characters$/, 'must be at least $1 characters')
    .replace(/^must NOT have more than (\d+) characters$/, 'must be at most $1 characters');
}

/**
 * Shows what went wrong with a form's request: a network failure or a 5xx at the top,
 * a 4xx next to the field it is about (`fieldFor` maps error codes and API field names to
 * the page's field ids), anything else at the top.
 * @param {unknown} err
 * @param {(code: string, field: string | null) => string | null} fieldFor
 * @param {(field: string, text: string) => string} [friendly]
 */
export function showRequestError(err, fieldFor, friendly = (_f, t) => t) {
  if (err instanceof NetworkError) return showAlert(err.message);
  if (!(err instanceof ApiError)) return showAlert('Something went wrong in this page. Please reload and try again.');
  if (err.status === 401 && err.code === 'UNAUTHENTICATED') {
    return showAlert('Your session has ended, so nothing was changed.', { href: `/signin?next=${encodeURIComponent(location.pathname)}`, text: 'Sign in again' });
  }
  if (err.status >= 500) return showAlert('slotwatch had a problem on its side and nothing was changed. Please try again in a moment.');
  const parsed = fieldOfMessage(err.message);
  const field = fieldFor(err.code, parsed ? parsed.field : null);
  const text = SENTENCE(parsed ? friendly(parsed.field, plainWords(parsed.text)) : err.message);
  if (field && showFieldError(field, text)) {
    announce(`There is a problem: ${text}`);
    return;
  }
  showAlert(SENTENCE(err.message));
}

/**
 * Fills `list` with the nodes `render` makes from what it fetches, marked busy meanwhile.
 * When the request fails the list says so, with a button to try again, and the error is
 * shown: a dropped connection is never a blank page.
 * @param {HTMLElement} list
 * @param {string} what what the list holds, for the failure message, e.g. "Your watches"
 * @param {() => Promise<Node[]>} render
 */
export async function fillList(list, what, render) {
  list.setAttribute('aria-busy', 'true');
  try {
    list.replaceChildren(...(await render()));
  } catch (err) {
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'secondary';
    retry.textContent = 'Try again';
    retry.addEventListener('click', () => void fillList(list, what, render));
    const message = document.createElement('p');
    message.textContent = `${what} could not be loaded. `;
    list.replaceChildren(message, retry);
    showRequestError(err, () => null);
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}
