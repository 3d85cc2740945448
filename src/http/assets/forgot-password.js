// @ts-check
/** Ask for a reset link: POST /api/auth/password-reset (the same answer whatever the address). */
import { api } from './api.js';
import { announce, byId, clearFieldErrors, clearMessages, showFieldError, showRequestError } from './ui.js';

const form = /** @type {HTMLFormElement} */ (byId('forgot'));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(form);
  const email = /** @type {HTMLInputElement} */ (byId('email')).value.trim();
  if (!email) return void showFieldError('email', 'Enter your email address.');
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  button.disabled = true;
  try {
    await api('POST', '/api/auth/password-reset', { email });
    announce(`If ${email} has an account, we have sent it a link to choose a new password. Check your inbox.`);
  } catch (err) {
    showRequestError(err, (_code, field) => (field === 'email' ? 'email' : null), () => 'Enter an email address like name@example.com');
  }
  button.disabled = false;
});
