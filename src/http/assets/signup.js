// @ts-check
/** Sign up: POST /api/auth/register, then sign in (POST /api/web/session) and go on to `next`. */
import { api, ApiError } from './api.js';
import { announce, byId, clearFieldErrors, clearMessages, showFieldError, showRequestError } from './ui.js';

const form = /** @type {HTMLFormElement} */ (byId('signup'));
const value = (id) => /** @type {HTMLInputElement} */ (byId(id)).value.trim();

/** @param {string} code @param {string | null} field */
const fieldFor = (code, field) => (code === 'EMAIL_TAKEN' ? 'email' : field && ['email', 'password', 'firstName', 'lastName'].includes(field) ? field : null);
const friendly = (field, text) => {
  if (field === 'email' && /pattern/.test(text)) return 'Enter an email address like name@example.com';
  if (field === 'password' && /fewer than/.test(text)) return 'Use at least 8 characters for your password';
  return text;
};

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(form);
  const email = value('email');
  const password = /** @type {HTMLInputElement} */ (byId('password')).value;
  if (!email) return void showFieldError('email', 'Enter your email address.');
  if (password.length < 8) return void showFieldError('password', 'Use at least 8 characters for your password.');
  /** @type {Record<string, string>} */
  const body = { email, password };
  if (value('firstName')) body.firstName = value('firstName');
  if (value('lastName')) body.lastName = value('lastName');
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  button.disabled = true;
  announce('Creating your account…');
  try {
    try {
      await api('POST', '/api/auth/register', body);
    } catch (err) {
      // a retry after a lost answer finds the account made: signing in below settles it
      if (!(err instanceof ApiError && err.code === 'EMAIL_TAKEN' && (await signIn(email, password)))) throw err;
      return;
    }
    await api('POST', '/api/web/session', { email, password });
    location.assign(form.dataset.next || '/watches');
  } catch (err) {
    showRequestError(err, fieldFor, friendly);
    button.disabled = false;
  }
});

/** True when these credentials sign in (then the page moves on). */
async function signIn(email, password) {
  try {
    await api('POST', '/api/web/session', { email, password });
  } catch {
    return false;
  }
  location.assign(form.dataset.next || '/watches');
  return true;
}
