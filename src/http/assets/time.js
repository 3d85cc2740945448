// @ts-check
/** Dates and times as the pages show them: Europe/London, British English; and hold countdowns. */
import { serverNow } from './api.js';

const DATE = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hour12: false });

/** e.g. "Tuesday 3 March 2026 at 09:30" in UK time. @param {string} iso */
export function londonDateTime(iso) {
  const d = new Date(iso);
  return `${DATE.format(d)} at ${TIME.format(d)}`;
}

/** @param {number} ms */
function minutesSeconds(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * Shows the time left until `expiresAt` in `el`, once a second, and calls `onExpired` once
 * when it runs out. Screen readers hear the time left each minute, not each second.
 * Returns a function that stops it.
 * @param {HTMLElement} el @param {string} expiresAt @param {() => void} onExpired
 */
export function startCountdown(el, expiresAt, onExpired) {
  const end = Date.parse(expiresAt);
  let lastSpokenMinute = -1;
  let done = false;
  const tick = () => {
    const left = end - serverNow();
    if (left <= 0) {
      el.textContent = 'Your hold has ended.';
      stop();
      if (!done) {
        done = true;
        onExpired();
      }
      return;
    }
    el.textContent = `${minutesSeconds(left)} left to confirm`;
    el.setAttribute('data-seconds-left', String(Math.ceil(left / 1000)));
    const minute = Math.ceil(left / 60000);
    if (minute !== lastSpokenMinute) {
      lastSpokenMinute = minute;
      el.setAttribute('aria-label', `${minute} minute${minute === 1 ? '' : 's'} left to confirm`);
    }
  };
  const timer = setInterval(tick, 1000);
  const stop = () => clearInterval(timer);
  tick();
  return stop;
}
