// @ts-check
/** Sign up: POST /api/auth/register, then "check your inbox" (the emailed link verifies the address). */
import { api } from './api.js';
import { announce, byId, clearFieldErrors, clearMessages, showFieldError, showRequestError } from './ui.js';

const form = /** @type {HTMLFormElement} */ (byId('signup'));
const value = (id) => /** @type {HTMLInputElement} */ (byId(id)).value.trim();

/** @param {string} code @param {string | null} field */
const fieldFor = (_code, field) => (field && ['email', 'password', 'firstName', 'lastName'].includes(field) ? field : null);
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
    // the same answer whether or not the address has an account: the email says which
    await api('POST', '/api/auth/register', body);
    form.hidden = true;
    byId('signup-address').textContent = email;
    byId('signup-done').hidden = false;
    byId('signup-heading').textContent = 'Check your inbox';
    byId('signup-heading').focus();
    announce('Check your inbox.');
  } catch (err) {
    showRequestError(err, fieldFor, friendly);
    button.disabled = false;
  }
});
