/**
 * The bodies of My account (change password, sign out everywhere, download your data,
 * delete your account) and of the page a deleted account lands on. account.js adds the
 * behaviour; the download is a plain link, so it works without scripts.
 */
import type { Account } from '../../accounts/users.js';
import { escapeHtml as e } from '../html.js';
import { field } from './bodies.js';

/** My account, for the signed-in learner. */
export function accountBody(account: Pick<Account, 'email' | 'firstName' | 'lastName'>): string {
  const name = [account.firstName, account.lastName].filter(Boolean).join(' ');
  return `<h1>My account</h1>
<p>Signed in as <strong>${e(account.email)}</strong>${name ? ` (${e(name)})` : ''}.</p>
<section aria-labelledby="password-heading" class="card">
  <h2 id="password-heading">Change your password</h2>
  <form id="password-form" novalidate>
    ${field({ id: 'currentPassword', label: 'Current password', type: 'password', autocomplete: 'current-password', attrs: 'required' })}
    ${field({ id: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', hint: 'At least 8 characters. Your other devices will be signed out.', attrs: 'required minlength="8"' })}
    <button type="submit">Change password</button>
  </form>
</section>
<section aria-labelledby="everywhere-heading" class="card">
  <h2 id="everywhere-heading">Sign out everywhere</h2>
  <p id="everywhere-hint">Ends every sign-in to your account: this browser, your other devices and any app. Use it if you signed in somewhere you should not have.</p>
  <button type="button" id="signout-everywhere" class="secondary" aria-describedby="everywhere-hint">Sign out everywhere</button>
</section>
<section aria-labelledby="export-heading" class="card">
  <h2 id="export-heading">Download your data</h2>
  <p id="export-hint">A file (JSON) with everything slotwatch holds about you: your account, watches, push alert subscriptions, alerts, appointments, sign-ins and the audit entries about you.</p>
  <p><a class="button" id="export" href="/api/me/export" download aria-describedby="export-hint">Download my data</a></p>
</section>
<section aria-labelledby="delete-heading" class="card">
  <h2 id="delete-heading">Delete your account</h2>
  <p>This cannot be undone. Your holds and bookings are cancelled, so the slots go to other learners. Your watches, alerts and push alert subscriptions are deleted, and your email address and name are erased. Records of tests already taken are kept for the test centre without anything that identifies you.</p>
  <form id="delete-form" novalidate>
    ${field({ id: 'deletePassword', label: 'Your password', type: 'password', autocomplete: 'current-password', hint: 'To check that it is you.', attrs: 'required' })}
    <div class="field">
      <div class="choice"><input type="checkbox" id="deleteConfirm" name="deleteConfirm" aria-describedby="deleteConfirm-error"><label for="deleteConfirm">I understand that my account and my data will be deleted for good</label></div>
      <p class="field-error" id="deleteConfirm-error"></p>
    </div>
    <button type="submit" class="danger">Delete my account</button>
  </form>
</section>`;
}

/** Where a deleted account lands, signed out. */
export function accountDeletedBody(): string {
  return `<h1>Your account has been deleted</h1>
<p>Your holds and bookings were cancelled, and your watches, alerts, push alert subscriptions and sign-ins were deleted. Your email address and name are no longer held by slotwatch.</p>
<p><a href="/signup">Create a new account</a></p>`;
}
