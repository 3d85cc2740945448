/**
 * The admin sign-in page and the refusal page. Self-contained: their policy lets no
 * stylesheet or script load, so their few styles are written into the page.
 */
import { escapeHtml, page } from '../html.js';

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 24rem; margin: 4rem auto; padding: 0 1rem; color: #1b1b1b; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 2px solid #555; border-radius: 4px; }
  input:focus, button:focus { outline: 3px solid #fd0; outline-offset: 0; }
  button { margin-top: 1.5rem; padding: .6rem 1.2rem; font: inherit; font-weight: 600; background: #00703c; color: #fff; border: 0; border-radius: 4px; }
  .error { color: #b00020; font-weight: 600; }
  .skip { position: absolute; left: -999rem; }
  .skip:focus { left: 1rem; }
  .brand { font-weight: 700; color: inherit; }`;

/** The sign-in form; `error` is shown above it and announced to screen readers. */
export function loginPage(o: { next: string; error?: string }): string {
  return page({
    title: 'Admin sign in',
    inlineStyle: STYLE,
    body: `<h1>slotwatch admin</h1>
  ${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ''}
  <form method="post" action="/admin/login">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
  </form>`,
  });
}

/** Shown to a signed-in user who is not an admin. */
export function refusedPage(): string {
  return page({
    title: 'Not allowed',
    inlineStyle: STYLE,
    body: `<h1>Not allowed</h1><p role="alert">The queue board is for admins only.</p>
  <form method="post" action="/admin/logout"><button type="submit">Sign out</button></form>`,
  });
}
