// @ts-check
/** Choose a new password: POST /api/auth/password-reset/confirm with the link's token. */
import { api } from './api.js';
import { takeLinkToken } from './link-token.js';
import { announce, byId, clearFieldErrors, clearMessages, showFieldError, showRequestError } from './ui.js';

const token = takeLinkToken();
const form = /** @type {HTMLFormElement} */ (byId('reset'));
form.hidden = !token;
byId('reset-missing').hidden = Boolean(token);

const friendly = (_field, text) => (/fewer than/.test(text) ? 'Use at least 8 characters for your password' : text);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(form);
  const newPassword = /** @type {HTMLInputElement} */ (byId('newPassword')).value;
  if (newPassword.length < 8) return void showFieldError('newPassword', 'Use at least 8 characters for your password.');
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  button.disabled = true;
  try {
    await api('POST', '/api/auth/password-reset/confirm', { token, newPassword });
    form.hidden = true;
    byId('reset-done').hidden = false;
    byId('reset-heading').focus();
    announce('Your password has been changed. Sign in with it.');
  } catch (err) {
    showRequestError(err, (_code, field) => (field === 'newPassword' ? 'newPassword' : null), friendly);
    button.disabled = false;
  }
});
