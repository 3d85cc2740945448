/**
 * The HTML shell every learner page shares: one stylesheet and one module script from
 * /assets (no CDN, no inline script, so the content security policy can forbid both),
 * a skip link, the navigation, and two live regions scripts announce through.
 */
import type { AuthUser } from '../accounts/roles.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Shell {
  title: string;
  /** The page's module under /assets, e.g. "watches.js"; none for static pages. */
  script?: string;
  user: AuthUser | null;
  csrf: string | null;
  /** Which nav entry is the current page. */
  current?: 'watches' | 'appointments' | 'signin' | 'signup';
  body: string;
}

function nav(s: Shell): string {
  const link = (href: string, text: string, key: Shell['current']) =>
    `<a href="${href}"${s.current === key ? ' aria-current="page"' : ''}>${text}</a>`;
  if (!s.user) {
    return `<nav aria-label="Account">${link('/signin', 'Sign in', 'signin')} ${link('/signup', 'Sign up', 'signup')}</nav>`;
  }
  return `<nav aria-label="Main">${link('/watches', 'My watches', 'watches')} ${link('/appointments', 'My appointments', 'appointments')}
      <form method="post" action="/signout" class="inline"><input type="hidden" name="_csrf" value="${escapeHtml(s.csrf ?? '')}"><button type="submit" class="link">Sign out</button></form></nav>`;
}

/** A whole page. */
export function page(s: Shell): string {
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(s.title)} · slotwatch</title>
${s.csrf ? `<meta name="csrf-token" content="${escapeHtml(s.csrf)}">` : ''}
<link rel="stylesheet" href="/assets/style.css">
${s.script ? `<script type="module" src="/assets/${s.script}"></script>` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/">slotwatch</a>${nav(s)}</header>
<main id="main" tabindex="-1">
<div id="alert" class="alert" role="alert"></div>
<div id="status" class="status" role="status" aria-live="polite"></div>
${s.body}
</main>
</body>
</html>`;
}
