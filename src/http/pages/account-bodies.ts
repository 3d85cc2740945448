/**
 * The bodies of the pages behind the emailed links and the forgotten-password form. The
 * link's token is in the URL's fragment, which the server never sees: the page's script
 * reads it and posts it, so a mail scanner that fetches the link spends nothing.
 */
import { field } from './bodies.js';

/** Confirm an address (the token from the fragment), or ask for a new link (for `email` when signed in). */
export function verifyBody(email?: string): string {
  return `<h1 id="verify-heading" tabindex="-1">Confirm your email address</h1>
<form id="verify" novalidate hidden>
  <p>Confirm this address to start getting alerts for your watches.</p>
  <button type="submit">Confirm my email address</button>
</form>
<section id="verify-done" hidden>
  <p class="done">Your email address is confirmed. Your watches will now send alerts.</p>
  <p><a class="button" href="/watches">Go to my watches</a></p>
</section>
<section id="resend-section" aria-labelledby="resend-heading">
  <h2 id="resend-heading">Need a new link?</h2>
  <form id="resend" novalidate>
    ${field({ id: 'email', label: 'Email', type: 'email', autocomplete: 'email', attrs: 'required', ...(email ? { value: email } : {}) })}
    <button type="submit" class="secondary">Send a new link</button>
  </form>
</section>`;
}

/** Ask for a reset link. */
export function forgotPasswordBody(): string {
  return `<h1>Forgotten your password?</h1>
<p>Enter your account's email address and we will send you a link to choose a new password. The link works for 30 minutes.</p>
<form id="forgot" novalidate>
  ${field({ id: 'email', label: 'Email', type: 'email', autocomplete: 'email', attrs: 'required' })}
  <button type="submit">Send me a link</button>
</form>
<p><a href="/signin">Back to sign in</a></p>`;
}

/** Choose a new password (the token from the fragment). */
export function resetPasswordBody(): string {
  return `<h1 id="reset-heading" tabindex="-1">Choose a new password</h1>
<p id="reset-missing" hidden>This page works only from the link in a password reset email. <a href="/forgot-password">Ask for a new link</a>.</p>
<form id="reset" novalidate hidden>
  ${field({ id: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', hint: 'At least 8 characters, and not a common password. Every device signed in to your account will be signed out.', attrs: 'required minlength="8"' })}
  <button type="submit">Set my new password</button>
</form>
<section id="reset-done" hidden>
  <p class="done">Your password has been changed, and every device has been signed out.</p>
  <p><a class="button" href="/signin">Sign in</a></p>
</section>`;
}
