// @ts-check
/// <reference lib="webworker" />
/**
 * slotwatch's service worker: shows each push alert (title, body) and opens the slot's
 * page when it is clicked. The payload is what src/alerts/templates.ts sends:
 * { title, body, url } with url = PUBLIC_BASE_URL/slots/<id>, or PUBLIC_BASE_URL/alerts for a digest.
 */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/** The page to open: only a path on this site, so a payload cannot send anyone elsewhere. @param {unknown} url */
function pageFor(url) {
  try {
    const u = new URL(String(url), sw.location.origin);
    // alerts carry PUBLIC_BASE_URL, which may name this site by another host: keep the path
    if (u.origin === sw.location.origin || (/^\/slots\/[0-9a-f-]{36}$/i.test(u.pathname) || u.pathname === '/alerts')) return new URL(u.pathname + u.search, sw.location.origin).href;
  } catch {
    // not a URL
  }
  return new URL('/watches', sw.location.origin).href;
}

/** Shows the alert a push carried. @param {PushMessageData | null} data */
function showAlert(data) {
  /** @type {{ title?: unknown, body?: unknown, url?: unknown }} */
  let payload = {};
  try {
    payload = data ? data.json() : {};
  } catch {
    payload = { body: data ? data.text() : '' };
  }
  const url = pageFor(payload.url);
  return sw.registration.showNotification(typeof payload.title === 'string' ? payload.title : 'slotwatch', {
    body: typeof payload.body === 'string' ? payload.body : '',
    data: { url },
    // one notification per slot: a repeat replaces it rather than piling up
    tag: url,
  });
}

/** Focuses a tab already on the slot's page, or opens one. @param {string} url */
async function openPage(url) {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => w.url === url);
  if (open) return open.focus();
  return sw.clients.openWindow(url);
}

sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()));

sw.addEventListener('push', (event) => {
  const shown = showAlert(event.data);
  event.waitUntil(shown);
});

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const opened = openPage(pageFor(event.notification.data?.url));
  event.waitUntil(opened);
});
