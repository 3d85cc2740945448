// @ts-check
/**
 * Push alerts on this device: register the service worker, ask permission, subscribe with
 * the server's VAPID public key and register the subscription with the API; turning off
 * deletes it from the API and unsubscribes the browser.
 */
import { api, ApiError, NetworkError } from './api.js';
import { announce, byId, showAlert } from './ui.js';

/** @param {string} base64url */
function keyBytes(base64url) {
  const base64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

/** The service worker registration, registering /sw.js when there is none. */
async function registration() {
  await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  return navigator.serviceWorker.ready;
}

/** Wires the push button on the page. */
export async function setUpPush() {
  const button = /** @type {HTMLButtonElement} */ (byId('push-toggle'));
  const state = byId('push-state');
  /** @param {boolean} on @param {string} [text] */
  const show = (on, text) => {
    button.dataset.on = String(on);
    button.textContent = on ? 'Turn off push alerts' : 'Turn on push alerts';
    state.textContent = text ?? (on ? 'Push alerts are on for this device.' : 'Push alerts are off on this device.');
  };
  if (!supported()) {
    button.disabled = true;
    show(false, 'This browser cannot show push alerts. Choose email for your watches instead.');
    return;
  }
  try {
    const existing = await (await navigator.serviceWorker.getRegistration('/'))?.pushManager.getSubscription();
    show(Boolean(existing) && Notification.permission === 'granted');
  } catch {
    show(false);
  }

  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      if (button.dataset.on === 'true') await turnOff(show);
      else await turnOn(show);
    } finally {
      button.disabled = false;
    }
  });
}

/** @param {(on: boolean, text?: string) => void} show */
async function turnOn(show) {
  let publicKey;
  try {
    ({ publicKey } = await api('GET', '/api/push/vapid-public-key'));
  } catch (err) {
    if (err instanceof ApiError && err.code === 'PUSH_NOT_CONFIGURED') return show(false, 'Push alerts are not available on this server yet. Choose email for your watches.');
    return showAlert(err instanceof NetworkError ? err.message : 'Could not turn on push alerts. Please try again.');
  }
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    return show(false, 'Push alerts need permission to show notifications. Allow notifications for this site in your browser settings, then try again.');
  }
  let subscription;
  try {
    const reg = await registration();
    subscription = (await reg.pushManager.getSubscription()) ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) }));
  } catch (err) {
    // e.g. a browser with no push service (some privacy builds, headless browsers)
    const reason = err instanceof Error ? err.message : String(err);
    show(false, 'This browser could not sign up for push alerts. Choose email for your watches instead.');
    byId('push-state').dataset.reason = reason;
    return showAlert(`Push alerts could not be turned on: the browser refused (${reason}).`);
  }
  try {
    await api('POST', '/api/me/push-subscriptions', subscription.toJSON());
  } catch (err) {
    // the browser is subscribed but the server does not know: undo, so nothing is half on
    await subscription.unsubscribe().catch(() => undefined);
    return showAlert(err instanceof NetworkError ? err.message : `Push alerts could not be turned on: ${err instanceof Error ? err.message : err}`);
  }
  show(true);
  announce('Push alerts are on for this device.');
}

/** @param {(on: boolean, text?: string) => void} show */
async function turnOff(show) {
  const reg = await navigator.serviceWorker.getRegistration('/');
  const subscription = await reg?.pushManager.getSubscription();
  if (subscription) {
    try {
      await api('DELETE', '/api/me/push-subscriptions', { endpoint: subscription.endpoint });
    } catch (err) {
      // already gone from the server is what we wanted
      if (!(err instanceof ApiError && err.status === 404)) {
        return showAlert(err instanceof NetworkError ? err.message : `Push alerts could not be turned off: ${err instanceof Error ? err.message : err}`);
      }
    }
    await subscription.unsubscribe();
  }
  show(false);
  announce('Push alerts are off on this device.');
}
