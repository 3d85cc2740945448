// @ts-check
/** Confirm an address: POST /api/auth/verify with the link's token; or ask for a new link (POST /api/auth/verify/resend). */
import { api } from './api.js';
import { takeLinkToken } from './link-token.js';
import { announce, byId, clearFieldErrors, clearMessages, showAlert, showFieldError, showRequestError } from './ui.js';

const token = takeLinkToken();
const verify = /** @type {HTMLFormElement} */ (byId('verify'));
const resend = /** @type {HTMLFormElement} */ (byId('resend'));
verify.hidden = !token;

verify.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  const button = /** @type {HTMLButtonElement} */ (verify.querySelector('button[type="submit"]'));
  button.disabled = true;
  try {
    await api('POST', '/api/auth/verify', { token });
    verify.hidden = true;
    byId('verify-done').hidden = false;
    byId('resend-section').hidden = true;
    announce('Your email address is confirmed.');
  } catch (err) {
    // an expired or used link: the message says so; the form below asks for a new one
    showRequestError(err, () => null);
    button.disabled = false;
  }
});

resend.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(resend);
  const email = /** @type {HTMLInputElement} */ (byId('email')).value.trim();
  if (!email) return void showFieldError('email', 'Enter your email address.');
  try {
    await api('POST', '/api/auth/verify/resend', { email });
    announce(`If ${email} has an account waiting to be confirmed, we have sent it a new link. Check your inbox.`);
  } catch (err) {
    if (!(err instanceof Error)) return void showAlert('Something went wrong. Please try again.');
    showRequestError(err, (_code, field) => (field === 'email' ? 'email' : null), () => 'Enter an email address like name@example.com');
  }
});
