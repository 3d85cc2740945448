// @ts-check
/** My appointments: holds with a live countdown, confirm and cancel; bookings; past ones. */
import { api } from './api.js';
import { startCountdown, londonDateTime } from './time.js';
import { announce, byId, fillList, showRequestError } from './ui.js';

const list = byId('appointment-list');
/** @type {(() => void)[]} */
let stops = [];

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
};

const STATUS = { HOLD: 'Held for you', CONFIRMED: 'Booked', CANCELLED: 'Cancelled', NO_SHOW: 'Missed' };

/** @param {any} a */
function render(a) {
  const when = londonDateTime(a.slot.startTime);
  const kind = a.slot.testType === 'theory' ? 'Theory test' : 'Practical test';
  const headingId = `appointment-${a.id}-title`;
  const article = el('article', { className: 'appointment' });
  article.setAttribute('aria-labelledby', headingId);
  article.dataset.appointmentId = a.id;
  article.dataset.status = a.status;
  const expired = a.status === 'HOLD' && a.expiresAt && Date.parse(a.expiresAt) <= Date.now();
  article.append(
    el('h2', { id: headingId }, `${kind}: ${when}`),
    el('p', { className: 'meta' }, `${a.slot.center.name} (${a.slot.center.postcode}) · ${expired ? 'Hold ended' : STATUS[a.status] ?? a.status}`),
  );
  if (a.status === 'HOLD' && !expired) {
    const timer = el('p', { className: 'countdown' });
    timer.setAttribute('role', 'timer');
    const actions = el('div', { className: 'actions' });
    const confirm = el('button', { type: 'button' }, 'Confirm booking');
    confirm.setAttribute('aria-label', `Confirm booking for ${when}`);
    const cancel = el('button', { type: 'button', className: 'secondary' }, 'Cancel hold');
    cancel.setAttribute('aria-label', `Cancel hold for ${when}`);
    confirm.addEventListener('click', () => act(a, 'confirm', [confirm, cancel]));
    cancel.addEventListener('click', () => act(a, 'cancel', [confirm, cancel]));
    actions.append(confirm, cancel);
    article.append(timer, actions);
    stops.push(startCountdown(timer, a.expiresAt, () => {
      confirm.disabled = true;
      announce(`Your hold on ${when} has ended.`);
    }));
  } else if (a.status === 'CONFIRMED') {
    const cancel = el('button', { type: 'button', className: 'secondary' }, 'Cancel booking');
    cancel.setAttribute('aria-label', `Cancel booking for ${when}`);
    cancel.addEventListener('click', () => act(a, 'cancel', [cancel]));
    article.append(el('div', { className: 'actions' }, cancel));
  }
  return article;
}

/** @param {any} a @param {'confirm' | 'cancel'} action @param {HTMLButtonElement[]} buttons */
async function act(a, action, buttons) {
  for (const b of buttons) b.disabled = true;
  try {
    await api('POST', `/api/appointments/${a.id}/${action}`);
    announce(action === 'confirm' ? 'Booked. Your test is confirmed.' : 'Cancelled.');
    await load();
  } catch (err) {
    showRequestError(err, () => null);
    for (const b of buttons) b.disabled = false;
  }
}

function load() {
  return fillList(list, 'Your appointments', async () => {
    const { appointments } = await api('GET', '/api/appointments');
    for (const stop of stops) stop();
    stops = [];
    return appointments.length ? appointments.map(render) : [el('p', {}, 'You have no appointments yet. When an alert comes, open it to hold the slot.')];
  });
}

void load();
