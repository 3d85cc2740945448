// @ts-check
/**
 * My watches: the list (GET /api/me/watches/coverage: each watch with the centres it covers and
 * their free slots), the add/edit form (POST/PUT /api/me/watches), pause/resume and
 * delete. A form keeps what was typed until the server has accepted it.
 */
import { api, ApiError } from './api.js';
import { setUpPush } from './push.js';
import { announce, byId, clearFieldErrors, clearMessages, fillList, showAlert, showFieldError, showRequestError } from './ui.js';

const form = /** @type {HTMLFormElement} */ (byId('watch-form'));
const list = byId('watch-list');
/** @type {Map<string, any>} */
const watches = new Map();
/** @type {{ latitude: number, longitude: number } | null} */
let here = null;
// where this device is (once asked); `here` may instead be a watch's saved point while editing
/** @type {{ latitude: number, longitude: number } | null} */
let deviceHere = null;

const input = (id) => /** @type {HTMLInputElement} */ (byId(id));
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
};

const TYPE_NAMES = { practical: 'practical', theory: 'theory' };

/** @param {any} w */
function title(w) {
  return w.label || (w.postcode ? `Near ${w.postcode}` : `Near ${w.location.latitude.toFixed(3)}, ${w.location.longitude.toFixed(3)}`);
}

/** @param {any} w */
function summary(w) {
  const parts = [`Within ${w.radiusMiles} miles`, w.testTypes.map((t) => TYPE_NAMES[t] ?? t).join(' and ') + ' tests', w.method === 'push' ? 'by push alert' : 'by email'];
  if (w.earliestDate || w.latestDate) parts.push(`${w.earliestDate ? `from ${w.earliestDate}` : ''}${w.earliestDate && w.latestDate ? ' ' : ''}${w.latestDate ? `until ${w.latestDate}` : ''}`);
  return parts.join(' · ');
}

/** Where a postcode placed a point, in words. @param {{ postcode: string, precision: string }} p */
function placedAt(p) {
  const outcode = p.postcode.split(' ')[0];
  if (p.precision === 'postcode') return `Placed at ${p.postcode} itself.`;
  if (outcode === p.postcode) return `Placed at the centre of ${outcode}.`;
  return `Placed at the centre of ${outcode}: ${p.postcode} is not in our list of full postcodes.`;
}

/** @param {any} w */
function renderWatch(w) {
  const headingId = `watch-${w.id}-title`;
  const article = el('article', { className: 'watch' });
  article.setAttribute('aria-labelledby', headingId);
  article.dataset.watchId = w.id;
  const h3 = el('h3', { id: headingId }, title(w));
  if (!w.isActive) h3.append(' ', el('span', { className: 'paused' }, 'Paused'));
  article.append(h3, el('p', { className: 'meta' }, summary(w)));
  if (w.precision === 'outcode') article.append(el('p', { className: 'placed' }, placedAt(w)));
  const covered = w.centerCount === 0
    ? 'No test centres within this distance yet.'
    : `Covers ${w.centerCount} test centre${w.centerCount === 1 ? '' : 's'}, with ${w.freeSlots} free slot${w.freeSlots === 1 ? '' : 's'} now${w.centerCount > w.centers.length ? ` (nearest ${w.centers.length} shown)` : ''}.`;
  article.append(el('p', { className: 'coverage' }, covered));
  if (w.centers.length) {
    const ul = el('ul', { className: 'plain centres' });
    ul.setAttribute('aria-label', `Test centres for ${title(w)}`);
    for (const c of w.centers) {
      ul.append(el('li', {}, el('strong', {}, c.name), ` (${c.postcode}), ${c.distanceMiles} miles: ${c.freeSlots} free slot${c.freeSlots === 1 ? '' : 's'}`));
    }
    article.append(ul);
  }
  const actions = el('div', { className: 'actions' });
  const edit = el('button', { type: 'button', className: 'secondary' }, 'Edit');
  edit.setAttribute('aria-label', `Edit ${title(w)}`);
  edit.addEventListener('click', () => startEdit(w));
  const pause = el('button', { type: 'button', className: 'secondary' }, w.isActive ? 'Pause' : 'Resume');
  pause.setAttribute('aria-label', `${w.isActive ? 'Pause' : 'Resume'} ${title(w)}`);
  pause.addEventListener('click', () => setActive(w, !w.isActive, pause));
  const del = el('button', { type: 'button', className: 'danger' }, 'Delete');
  del.setAttribute('aria-label', `Delete ${title(w)}`);
  del.addEventListener('click', () => askDelete(w, actions));
  actions.append(edit, pause, del);
  article.append(actions);
  return article;
}

function loadWatches() {
  return fillList(list, 'Your watches', async () => {
    const { watches: found } = await api('GET', '/api/me/watches/coverage');
    watches.clear();
    for (const w of found) watches.set(w.id, w);
    return found.length ? found.map(renderWatch) : [el('p', {}, 'You have no watches yet. Add one below and we will tell you when a slot comes free.')];
  });
}

/** What the form says, as the watches API takes it; null (with the field marked) when incomplete. */
function readForm() {
  /** @type {Record<string, unknown>} */
  const body = {};
  const label = input('label').value.trim();
  if (label) body.label = label;
  const where = /** @type {HTMLInputElement} */ (form.querySelector('input[name="where"]:checked')).value;
  if (where === 'postcode') {
    const postcode = input('postcode').value.trim().toUpperCase();
    if (!postcode) return void showFieldError('postcode', 'Enter a postcode, or choose “Use my location”.'), null;
    body.postcode = postcode;
  } else {
    if (!here) return void showFieldError('location', 'Your location is not known yet. Allow location access, or enter a postcode.'), null;
    body.location = here;
  }
  const radius = Number(input('radiusMiles').value);
  if (!input('radiusMiles').value || !Number.isFinite(radius)) return void showFieldError('radiusMiles', 'Enter a distance in miles, for example 25.'), null;
  body.radiusMiles = radius;
  const types = [...form.querySelectorAll('input[name="testTypes"]:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
  if (types.length === 0) return void showFieldError('testTypes', 'Choose at least one test type.'), null;
  body.testTypes = types;
  body.method = /** @type {HTMLInputElement} */ (form.querySelector('input[name="method"]:checked')).value;
  if (input('earliestDate').value) body.earliestDate = input('earliestDate').value;
  if (input('latestDate').value) body.latestDate = input('latestDate').value;
  return body;
}

// the API's field names and codes → this form's fields
/** @param {string} code @param {string | null} field */
function fieldFor(code, field) {
  if (/POSTCODE/.test(code) || field === 'postcode') return 'postcode';
  if (field === 'location') return 'location';
  if (/DATE/.test(code)) return 'latestDate';
  if (/PUSH/.test(code)) return 'method';
  if (field && ['label', 'radiusMiles', 'testTypes', 'method', 'earliestDate', 'latestDate'].includes(field)) return field;
  return null;
}

function resetForm() {
  form.reset();
  byId('postcode-place').textContent = '';
  here = deviceHere;
  input('watch-id').value = '';
  byId('form-heading').textContent = 'Add a watch';
  byId('watch-submit').textContent = 'Add watch';
  byId('watch-cancel').hidden = true;
  syncWhere();
}

/** @param {any} w */
function startEdit(w) {
  clearMessages();
  clearFieldErrors(form);
  input('watch-id').value = w.id;
  input('label').value = w.label ?? '';
  /** @type {HTMLInputElement} */ (byId(w.postcode ? 'where-postcode' : 'where-here')).checked = true;
  input('postcode').value = w.postcode ?? '';
  if (!w.postcode) here = { latitude: w.location.latitude, longitude: w.location.longitude };
  input('radiusMiles').value = String(w.radiusMiles);
  input('type-practical').checked = w.testTypes.includes('practical');
  input('type-theory').checked = w.testTypes.includes('theory');
  /** @type {HTMLInputElement} */ (byId(w.method === 'push' ? 'method-push' : 'method-email')).checked = true;
  input('earliestDate').value = w.earliestDate ?? '';
  input('latestDate').value = w.latestDate ?? '';
  byId('form-heading').textContent = `Edit “${title(w)}”`;
  byId('watch-submit').textContent = 'Save changes';
  byId('watch-cancel').hidden = false;
  syncWhere(false);
  input('label').focus();
}

/** The API's body for an existing watch, changed by `patch`. @param {any} w @param {Record<string, unknown>} patch */
function bodyOf(w, patch) {
  /** @type {Record<string, unknown>} */
  const body = w.postcode ? { postcode: w.postcode } : { location: w.location };
  Object.assign(body, { radiusMiles: w.radiusMiles, method: w.method, testTypes: w.testTypes });
  if (w.label) body.label = w.label;
  if (w.earliestDate) body.earliestDate = w.earliestDate;
  if (w.latestDate) body.latestDate = w.latestDate;
  return Object.assign(body, patch);
}

/** @param {any} w @param {boolean} active @param {HTMLButtonElement} button */
async function setActive(w, active, button) {
  clearMessages();
  button.disabled = true;
  try {
    await api('PUT', `/api/me/watches/${w.id}`, bodyOf(w, { isActive: active }));
    announce(`${title(w)} is ${active ? 'on again' : 'paused'}.`);
    await loadWatches();
  } catch (err) {
    showRequestError(err, () => null);
    button.disabled = false;
  }
}

/** @param {any} w @param {HTMLElement} actions */
function askDelete(w, actions) {
  const original = [...actions.childNodes];
  const yes = el('button', { type: 'button', className: 'danger' }, 'Yes, delete it');
  const no = el('button', { type: 'button', className: 'secondary' }, 'Keep it');
  const question = el('p', { className: 'confirm' }, `Delete “${title(w)}”? You will stop getting its alerts.`);
  actions.replaceChildren(question, yes, no);
  yes.focus();
  no.addEventListener('click', () => {
    actions.replaceChildren(...original);
    /** @type {HTMLElement} */ (original[2]).focus();
  });
  yes.addEventListener('click', async () => {
    clearMessages();
    yes.disabled = true;
    try {
      await api('DELETE', `/api/me/watches/${w.id}`);
      announce(`${title(w)} was deleted.`);
      if (input('watch-id').value === w.id) resetForm();
      await loadWatches();
      byId('list-heading').focus();
    } catch (err) {
      showRequestError(err, () => null);
      yes.disabled = false;
    }
  });
}

/** Shows the postcode field or the location state, by the "Where" choice. @param {boolean} [ask] */
function syncWhere(ask = true) {
  const useHere = input('where-here').checked;
  byId('postcode-group').toggleAttribute('hidden', useHere);
  const state = byId('location-state');
  state.hidden = !useHere;
  if (!useHere) return;
  if (here) {
    state.textContent = `Using your location (${here.latitude.toFixed(3)}, ${here.longitude.toFixed(3)}).`;
    return;
  }
  if (!ask) return;
  if (!('geolocation' in navigator)) {
    state.textContent = '';
    showFieldError('location', 'This browser cannot share your location. Enter a postcode instead.');
    return;
  }
  state.textContent = 'Finding your location…';
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      here = deviceHere = { latitude: Math.round(pos.coords.latitude * 1e5) / 1e5, longitude: Math.round(pos.coords.longitude * 1e5) / 1e5 };
      byId('location-error').textContent = '';
      state.textContent = `Using your location (${here.latitude.toFixed(3)}, ${here.longitude.toFixed(3)}).`;
      announce('Location found.');
    },
    () => {
      state.textContent = '';
      showFieldError('location', 'Your location could not be found. Allow location access, or enter a postcode instead.');
    },
    { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
  );
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessages();
  clearFieldErrors(form);
  const body = readForm();
  if (!body) return;
  const id = input('watch-id').value;
  const submit = /** @type {HTMLButtonElement} */ (byId('watch-submit'));
  submit.disabled = true;
  try {
    if (id) {
      const w = watches.get(id);
      await api('PUT', `/api/me/watches/${id}`, w && !w.isActive ? { ...body, isActive: false } : body);
    } else {
      await api('POST', '/api/me/watches', body);
    }
    announce(id ? 'Watch saved.' : 'Watch added.');
    resetForm();
    await loadWatches();
  } catch (err) {
    showRequestError(err, fieldFor, (field, text) => (field === 'postcode' && /pattern/.test(text) ? 'Enter a UK postcode, for example B2 4QA' : text));
  } finally {
    submit.disabled = false;
  }
});

/** The "Check postcode" button: where the postcode would place a watch (GET /api/postcodes/:postcode), without saving anything. */
async function checkPostcode() {
  const out = byId('postcode-place');
  const postcode = input('postcode').value.trim();
  out.textContent = '';
  byId('postcode-error').textContent = '';
  input('postcode').removeAttribute('aria-invalid');
  if (!postcode) return void showFieldError('postcode', 'Enter a postcode to check.');
  const button = /** @type {HTMLButtonElement} */ (byId('postcode-check'));
  button.disabled = true;
  try {
    const p = await api('GET', `/api/postcodes/${encodeURIComponent(postcode)}`);
    out.textContent = `${placedAt(p)} (${p.latitude.toFixed(4)}, ${p.longitude.toFixed(4)})`;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) showFieldError('postcode', `We cannot place ${postcode.toUpperCase()}: its first part is not a UK postcode area we know. Check it, or use your location.`);
    else if (err instanceof ApiError && err.status === 400) showFieldError('postcode', 'Enter a UK postcode, for example B2 4QA.');
    else showRequestError(err, () => null);
  } finally {
    button.disabled = false;
  }
}

byId('postcode-check').addEventListener('click', () => void checkPostcode());
input('postcode').addEventListener('input', () => {
  byId('postcode-place').textContent = '';
});

byId('watch-cancel').addEventListener('click', () => {
  resetForm();
  clearFieldErrors(form);
  input('label').focus();
});
for (const radio of form.querySelectorAll('input[name="where"]')) radio.addEventListener('change', () => syncWhere());

syncWhere(false);
void loadWatches();
void setUpPush().catch(() => showAlert('Push alerts could not be set up in this browser.'));
