// @ts-check
/**
 * The slot page behind an alert link: hold (POST /api/slots/:id/hold), then a countdown and
 * confirm. A slot someone else took says so and lists the nearest free slots of the same
 * type from the slot search (GET /api/slots).
 */
import { api, ApiError } from './api.js';
import { londonDateTime, startCountdown } from './time.js';
import { announce, byId, showAlert, showRequestError } from './ui.js';

const slot = byId('slot');
const data = slot.dataset;
let stopCountdown = () => {};
// one key per page view: a hold retried after a lost answer gets the first answer back
const holdKey = `page-${crypto.randomUUID()}`;

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
};

/** @param {string} appointmentId @param {string} expiresAt */
function showHold(appointmentId, expiresAt) {
  data.appointmentId = appointmentId;
  byId('slot-state').textContent = 'You are holding this slot.';
  byId('hold')?.remove();
  const panel = byId('hold-panel');
  panel.hidden = false;
  const confirm = /** @type {HTMLButtonElement} */ (byId('confirm'));
  confirm.disabled = false;
  stopCountdown();
  stopCountdown = startCountdown(byId('countdown'), expiresAt, () => {
    confirm.disabled = true;
    byId('slot-state').textContent = 'Your hold has ended. The slot may still be free: reload the page to try again.';
    announce('Your hold has ended.');
  });
}

async function hold() {
  const button = /** @type {HTMLButtonElement} */ (byId('hold'));
  button.disabled = true;
  announce('Holding the slot…');
  try {
    const { appointment } = await api('POST', `/api/slots/${data.slotId}/hold`, undefined, { 'idempotency-key': holdKey });
    showHold(appointment.id, appointment.expiresAt);
    announce('Held. Confirm before the time runs out.');
    byId('confirm').focus();
  } catch (err) {
    button.disabled = false;
    if (err instanceof ApiError && err.code === 'SLOT_UNAVAILABLE') return taken();
    if (err instanceof ApiError && err.code === 'ALREADY_HOLDING') {
      return showAlert('You are already holding another slot. Confirm or cancel it first.', { href: '/appointments', text: 'Go to my appointments' });
    }
    if (err instanceof ApiError && err.code === 'ALREADY_BOOKED') {
      // the message names the booking they already have
      return showAlert(`${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.`, { href: '/appointments', text: 'Go to my appointments' });
    }
    showRequestError(err, () => null);
  }
}

async function confirmBooking() {
  const button = /** @type {HTMLButtonElement} */ (byId('confirm'));
  button.disabled = true;
  try {
    await api('POST', `/api/appointments/${data.appointmentId}/confirm`);
    stopCountdown();
    byId('hold-panel').hidden = true;
    const state = byId('slot-state');
    state.className = 'done';
    state.textContent = 'Booked. Your test is confirmed.';
    announce('Booked. Your test is confirmed.');
    state.after(el('p', {}, el('a', { href: '/appointments' }, 'See my appointments')));
  } catch (err) {
    button.disabled = false;
    showRequestError(err, () => null);
  }
}

/** Says plainly the slot is gone, then lists the nearest free ones. */
function taken() {
  const state = byId('slot-state');
  state.className = 'taken';
  state.textContent = 'Sorry, this slot has been taken.';
  byId('hold')?.remove();
  announce('Sorry, this slot has been taken. Looking for free slots nearby…');
  void alternatives();
}

async function alternatives() {
  const section = byId('alternatives');
  const target = byId('alt-list');
  section.hidden = false;
  target.replaceChildren(el('p', {}, 'Looking for free slots nearby…'));
  const q = new URLSearchParams({ lat: data.lat ?? '', lon: data.lon ?? '', radiusMiles: '25', testType: data.testType ?? 'practical', limit: '50' });
  try {
    const { slots } = await api('GET', `/api/slots?${q}`);
    // nearest first, then soonest: the search orders by time
    const nearest = slots.filter((s) => s.id !== data.slotId).sort((a, b) => a.distanceMiles - b.distanceMiles || a.startTime.localeCompare(b.startTime)).slice(0, 5);
    if (!nearest.length) {
      target.replaceChildren(el('p', {}, 'There are no free slots within 25 miles right now. Your watches will tell you when one comes free.'));
      return;
    }
    const ul = el('ul', { className: 'plain' });
    for (const s of nearest) {
      ul.append(el('li', { className: 'alt' }, el('a', { href: `/slots/${s.id}` }, londonDateTime(s.startTime)), el('br'), `${s.center.name} (${s.center.postcode}), ${s.distanceMiles} miles away`));
    }
    target.replaceChildren(ul);
  } catch (err) {
    const retry = el('button', { type: 'button', className: 'secondary' }, 'Try again');
    retry.addEventListener('click', () => void alternatives());
    target.replaceChildren(el('p', {}, 'Free slots nearby could not be loaded. '), retry);
    showRequestError(err, () => null);
  }
}

document.getElementById('hold')?.addEventListener('click', () => void hold());
byId('confirm').addEventListener('click', () => void confirmBooking());
if (data.appointmentStatus === 'HOLD' && data.expiresAt) showHold(data.appointmentId ?? '', data.expiresAt);
else if (data.available === 'false' && !data.appointmentStatus) void alternatives();
