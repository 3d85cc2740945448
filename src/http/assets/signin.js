// @ts-check
/** Sign in: POST /api/web/session sets the session cookie; then on to `next`. */
import { api } from './api.js';
import { announce, byId, clearFieldErrors, clearMessages, showFieldError, showRequestError } from './ui.js';

const form = /** @type {HTMLFormElement} */ (byId('signin'));

/** @param {string} code @param {string | null} field */
const fieldFor = (code, field) => (code === 'INVALID_CREDENTIALS' ? 'password' : field === 'email' || field === 'password' ? field : null);
const friendly = (field, text) => (field === 'email' ? 'Enter an email address like name@example.com' : text);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(form);
  const email = /** @type {HTMLInputElement} */ (byId('email')).value.trim();
  const password = /** @type {HTMLInputElement} */ (byId('password')).value;
  if (!email) return void showFieldError('email', 'Enter your email address.');
  if (!password) return void showFieldError('password', 'Enter your password.');
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  button.disabled = true;
  announce('Signing in…');
  try {
    await api('POST', '/api/web/session', { email, password });
    location.assign(form.dataset.next || '/watches');
  } catch (err) {
    showRequestError(err, fieldFor, friendly);
    button.disabled = false;
  }
});
