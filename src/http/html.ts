/**
 * The one HTML shell every page slotwatch serves shares (the learner pages, the
 * unsubscribe pages, the admin sign-in): one stylesheet and at most one module script from
 * /assets (no CDN, no inline script, so a content security policy can forbid both), a
 * skip link, a header, and the page's own content. Text goes through the one escaper.
 */
import { escapeHtml } from '../html.js';

export { escapeHtml };

export interface Shell {
  title: string;
  /** The page's content, already HTML. */
  body: string;
  /** The page's module under /assets, e.g. "watches.js"; none for static pages. */
  script?: string;
  /** What follows the brand in the header: the learner pages' navigation. */
  nav?: string;
  /** The CSRF token the page's scripts send with state changes. */
  csrf?: string | null;
  /** Two live regions the page's scripts announce through (role alert and status). */
  liveRegions?: boolean;
  /** CSS written into the page, for a page whose policy allows no stylesheet from this site; else /assets/style.css. */
  inlineStyle?: string;
  /** Keeps the page out of search engines (pages reached by a secret link). */
  noindex?: boolean;
}

/** A whole page. */
export function page(s: Shell): string {
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    s.noindex ? '<meta name="robots" content="noindex">' : '',
    `<title>${escapeHtml(s.title)} · slotwatch</title>`,
    s.csrf ? `<meta name="csrf-token" content="${escapeHtml(s.csrf)}">` : '',
    s.inlineStyle ? `<style>${s.inlineStyle}</style>` : '<link rel="stylesheet" href="/assets/style.css">',
    s.script ? `<script type="module" src="/assets/${s.script}"></script>` : '',
  ].filter(Boolean);
  const live = s.liveRegions
    ? `<div id="alert" class="alert" role="alert"></div>
<div id="status" class="status" role="status" aria-live="polite"></div>
`
    : '';
  return `<!doctype html>
<html lang="en-GB">
<head>
${head.join('\n')}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/">slotwatch</a>${s.nav ?? ''}</header>
<main id="main" tabindex="-1">
${live}${s.body}
</main>
</body>
</html>`;
}
