// @ts-check
/**
 * My account: change the password, sign out everywhere, delete the account (the password
 * again, and a box ticked to say so). The download of your data is a plain link.
 */
import { api, ApiError } from './api.js';
import { announce, byId, clearFieldErrors, clearMessages, showFieldError, showRequestError } from './ui.js';

/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ (byId(id));
/** @param {HTMLFormElement} form */
const submitButton = (form) => /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));

/**
 * The field of this page an error is about: the one the server names (in `field`, or in a
 * validation message), else the one its code is about.
 * @param {unknown} err @param {Record<string, string>} fields API field -> page field id
 * @param {(code: string) => string | null} byCode
 */
const fieldFinder = (err, fields, byCode) => (/** @type {string} */ code, /** @type {string | null} */ named) => {
  const field = (err instanceof ApiError && err.field) || named;
  if (field && fields[field]) return fields[field];
  return byCode(code);
};

const passwordForm = /** @type {HTMLFormElement} */ (byId('password-form'));
passwordForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(passwordForm);
  const currentPassword = input('currentPassword').value;
  const newPassword = input('newPassword').value;
  if (!currentPassword) return void showFieldError('currentPassword', 'Enter your current password.');
  if (newPassword.length < 8) return void showFieldError('newPassword', 'Enter a new password of at least 8 characters.');
  const button = submitButton(passwordForm);
  button.disabled = true;
  announce('Changing your password…');
  try {
    await api('POST', '/api/me/password', { currentPassword, newPassword });
    passwordForm.reset();
    announce('Your password has been changed. Your other devices have been signed out.');
  } catch (err) {
    // a refusal of the current password names it; any other password refusal is about the new one
    const byCode = (/** @type {string} */ code) =>
      code === 'WRONG_PASSWORD' ? 'currentPassword' : code === 'WEAK_PASSWORD' ? 'newPassword' : null;
    showRequestError(err, fieldFinder(err, { currentPassword: 'currentPassword', newPassword: 'newPassword' }, byCode));
  } finally {
    button.disabled = false;
  }
});

const everywhere = /** @type {HTMLButtonElement} */ (byId('signout-everywhere'));
everywhere.addEventListener('click', async () => {
  clearMessages();
  everywhere.disabled = true;
  announce('Signing you out everywhere…');
  try {
    await api('POST', '/api/me/sessions/revoke-all');
    location.assign('/signin');
  } catch (err) {
    showRequestError(err, () => null);
    everywhere.disabled = false;
  }
});

const deleteForm = /** @type {HTMLFormElement} */ (byId('delete-form'));
deleteForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(deleteForm);
  const password = input('deletePassword').value;
  if (!password) return void showFieldError('deletePassword', 'Enter your password to delete your account.');
  if (!input('deleteConfirm').checked) return void showFieldError('deleteConfirm', 'Tick the box to say you want your account deleted.');
  const button = submitButton(deleteForm);
  button.disabled = true;
  announce('Deleting your account…');
  try {
    await api('DELETE', '/api/me', { password });
    location.assign('/account/deleted');
  } catch (err) {
    showRequestError(err, fieldFinder(err, { password: 'deletePassword' }, (code) => (code === 'WRONG_PASSWORD' ? 'deletePassword' : null)));
    button.disabled = false;
  }
});
