/**
 * The bodies of the learner pages. Forms are real forms with labels; each field has an
 * error slot next to it (`<id>-error`) that scripts fill from a 4xx and that the field
 * names with aria-describedby. Scripts add behaviour; the content is here.
 */
import type { AuthUser } from '../../accounts/roles.js';
import type { UserAlert } from '../../alerts/list.js';
import type { SlotPage } from '../../slots/slot-page.js';
import { escapeHtml as e } from '../html.js';
import { londonDate, londonTime, miles } from './format.js';

export type NavEntry = 'watches' | 'appointments' | 'alerts' | 'account' | 'signin' | 'signup';

/** The learner pages' navigation: signed in, the three lists, the account and a sign-out form (a plain form, so it works without scripts). */
export function learnerNav(user: AuthUser | null, csrf: string | null, current?: NavEntry): string {
  const link = (href: string, text: string, key: NavEntry) => `<a href="${href}"${current === key ? ' aria-current="page"' : ''}>${text}</a>`;
  if (!user) {
    return `<nav aria-label="Account">${link('/signin', 'Sign in', 'signin')} ${link('/signup', 'Sign up', 'signup')}</nav>`;
  }
  return `<nav aria-label="Main">${link('/watches', 'My watches', 'watches')} ${link('/appointments', 'My appointments', 'appointments')} ${link('/alerts', 'Recent alerts', 'alerts')} ${link('/account', 'My account', 'account')}
      <form method="post" action="/signout" class="inline"><input type="hidden" name="_csrf" value="${e(csrf ?? '')}"><button type="submit" class="link">Sign out</button></form></nav>`;
}

/** A labelled input with its hint and its error slot (`<id>-error`), which the input names with aria-describedby. */
export function field(o: { id: string; label: string; type?: string; autocomplete?: string; hint?: string; attrs?: string; value?: string }): string {
  const described = [o.hint ? `${o.id}-hint` : '', `${o.id}-error`].filter(Boolean).join(' ');
  return `<div class="field">
  <label for="${o.id}">${o.label}</label>
  ${o.hint ? `<p class="hint" id="${o.id}-hint">${o.hint}</p>` : ''}
  <input id="${o.id}" name="${o.id}" type="${o.type ?? 'text'}"${o.autocomplete ? ` autocomplete="${o.autocomplete}"` : ''} aria-describedby="${described}"${o.value !== undefined ? ` value="${e(o.value)}"` : ''}${o.attrs ? ` ${o.attrs}` : ''}>
  <p class="field-error" id="${o.id}-error"></p>
</div>`;
}

/** Sign in; `next` is where to go after (already checked to be a local path). */
export function signInBody(next: string): string {
  return `<h1>Sign in</h1>
<form id="signin" novalidate data-next="${e(next)}">
  ${field({ id: 'email', label: 'Email', type: 'email', autocomplete: 'username', attrs: 'required' })}
  ${field({ id: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', attrs: 'required' })}
  <button type="submit">Sign in</button>
</form>
<p><a href="/forgot-password">Forgotten your password?</a></p>
<p>New here? <a href="/signup${next !== '/watches' ? `?next=${encodeURIComponent(next)}` : ''}">Create an account</a>.</p>`;
}

/** Sign up; it ends on "check your inbox" (the emailed link verifies the address). */
export function signUpBody(next: string): string {
  return `<h1 id="signup-heading" tabindex="-1">Create an account</h1>
<section id="signup-done" hidden>
  <p>We have sent an email to <strong id="signup-address"></strong>. Open the link in it to confirm your address: until then, your watches send no alerts.</p>
  <p>No email after a few minutes? Check your spam folder, or <a href="/verify">ask for a new link</a>.</p>
  <p><a class="button" href="/signin${next !== '/watches' ? `?next=${encodeURIComponent(next)}` : ''}">Sign in</a></p>
</section>
<form id="signup" novalidate data-next="${e(next)}">
  ${field({ id: 'email', label: 'Email', type: 'email', autocomplete: 'email', attrs: 'required' })}
  ${field({ id: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: 'At least 8 characters, and not a common password.', attrs: 'required minlength="8"' })}
  ${field({ id: 'firstName', label: 'First name (optional)', autocomplete: 'given-name' })}
  ${field({ id: 'lastName', label: 'Last name (optional)', autocomplete: 'family-name' })}
  <button type="submit">Create account</button>
</form>
<p>Already have an account? <a href="/signin${next !== '/watches' ? `?next=${encodeURIComponent(next)}` : ''}">Sign in</a>.</p>`;
}

/** My watches: push opt-in, the add/edit form, and the list scripts fill; `unverified` adds the note that alerts wait for the address. */
export function watchesBody(unverified = false): string {
  return `<h1>My watches</h1>
${unverified ? '<p class="card notice" id="verify-notice">Confirm your email address to get alerts: open the link we emailed you. <a href="/verify">Send a new link</a></p>' : ''}
<section aria-labelledby="push-heading" class="card">
  <h2 id="push-heading">Push alerts on this device</h2>
  <p id="push-state">Push alerts are off on this device.</p>
  <button type="button" id="push-toggle" aria-describedby="push-state">Turn on push alerts</button>
</section>
<section aria-labelledby="list-heading">
  <h2 id="list-heading" tabindex="-1">Your watches</h2>
  <div id="watch-list" aria-busy="true"><p>Loading your watches…</p></div>
</section>
<section aria-labelledby="form-heading" class="card">
  <h2 id="form-heading">Add a watch</h2>
  <form id="watch-form" novalidate>
    <input type="hidden" id="watch-id" name="watch-id" value="">
    ${field({ id: 'label', label: 'Name (optional)', hint: 'For example “Near home”.' })}
    <fieldset>
      <legend>Where</legend>
      <div class="choice"><input type="radio" id="where-postcode" name="where" value="postcode" checked><label for="where-postcode">By postcode</label></div>
      <div class="choice"><input type="radio" id="where-here" name="where" value="here"><label for="where-here">Use my location</label></div>
      <div id="postcode-group">
        ${field({ id: 'postcode', label: 'Postcode', autocomplete: 'postal-code', hint: 'A full postcode, or just its first part (for example B2).', attrs: 'maxlength="10" autocapitalize="characters"' })}
        <button type="button" id="postcode-check" class="secondary">Check postcode</button>
        <p id="postcode-place" role="status"></p>
      </div>
      <p id="location-state" class="hint" hidden></p>
      <p class="field-error" id="location-error"></p>
    </fieldset>
    ${field({ id: 'radiusMiles', label: 'Distance (miles)', type: 'number', value: '25', attrs: 'min="1" max="100" step="1" inputmode="numeric"' })}
    <fieldset aria-describedby="testTypes-error">
      <legend>Test types</legend>
      <div class="choice"><input type="checkbox" id="type-practical" name="testTypes" value="practical" checked><label for="type-practical">Practical</label></div>
      <div class="choice"><input type="checkbox" id="type-theory" name="testTypes" value="theory"><label for="type-theory">Theory</label></div>
      <p class="field-error" id="testTypes-error"></p>
    </fieldset>
    ${field({ id: 'earliestDate', label: 'Earliest date (optional)', type: 'date' })}
    ${field({ id: 'latestDate', label: 'Latest date (optional)', type: 'date' })}
    <fieldset aria-describedby="method-error">
      <legend>Tell me by</legend>
      <div class="choice"><input type="radio" id="method-email" name="method" value="email" checked><label for="method-email">Email</label></div>
      <div class="choice"><input type="radio" id="method-push" name="method" value="push"><label for="method-push">Push alert</label></div>
      <p class="field-error" id="method-error"></p>
    </fieldset>
    <div class="actions">
      <button type="submit" id="watch-submit">Add watch</button>
      <button type="button" id="watch-cancel" class="secondary" hidden>Stop editing</button>
    </div>
  </form>
</section>`;
}

/** My appointments: the list scripts fill. */
export function appointmentsBody(): string {
  return `<h1>My appointments</h1>
<div id="appointment-list" aria-busy="true"><p>Loading your appointments…</p></div>`;
}

const OUTCOME: Record<UserAlert['status'], string> = {
  pending: 'Waiting to be sent',
  sending: 'Being sent',
  sent: 'Sent',
  digested: 'In a summary message',
  skipped: 'Not sent',
  capped: 'Not sent: daily limit reached',
  failed: 'Could not be sent',
};

function outcome(a: UserAlert): string {
  if (a.status === 'digested' && a.message) {
    const m = a.message;
    if (m.status === 'sent' && m.sentAt) return `Sent in a summary ${m.channel === 'push' ? 'notification' : 'email'} at ${londonTime(m.sentAt)}`;
    return m.status === 'pending' || m.status === 'sending' ? 'In a summary message still to be sent' : 'In a summary message that was not sent';
  }
  if (a.status === 'sent' && a.message?.sentAt) return `Sent by ${a.message.channel === 'push' ? 'notification' : 'email'} at ${londonTime(a.message.sentAt)}`;
  if (a.status === 'skipped' && a.reason) return `Not sent: ${a.reason.replace(/^slot is (HOLD|BOOKED)$/, 'the slot was taken')}`;
  return OUTCOME[a.status];
}

function slotLine(s: UserAlert['slot']): string {
  const type = s.testType === 'theory' ? 'Theory test' : 'Practical test';
  return `${e(type)} at ${e(s.centre)}, ${e(londonDate(s.startTime))} at ${e(londonTime(s.startTime))}`;
}

/**
 * Recent alerts: the slots still free from the last day (what the message that reaches
 * the daily cap links to, as #free), then every alert newest first, paged by `before`.
 */
export function alertsBody(o: { free: UserAlert['slot'][]; alerts: UserAlert[]; nextBefore: string | null; older: boolean }): string {
  const free = o.free.length
    ? `<ul>${o.free.map((s) => `<li><a href="/slots/${e(s.id)}">${slotLine(s)}</a></li>`).join('')}</ul>`
    : '<p>None of the slots we told you about in the last day is free now.</p>';
  const rows = o.alerts
    .map(
      (a) => `<tr><td>${a.slot.free ? `<a href="/slots/${e(a.slot.id)}">${slotLine(a.slot)}</a>` : slotLine(a.slot)}${a.slot.free ? '' : ' (taken or past)'}</td>
<td>${e(londonDate(a.createdAt))} ${e(londonTime(a.createdAt))}</td><td>${e(outcome(a))}</td></tr>`,
    )
    .join('\n');
  const list = o.alerts.length
    ? `<table><caption class="visually-hidden">Your alerts, newest first</caption><thead><tr><th scope="col">Slot</th><th scope="col">Found (UK time)</th><th scope="col">What happened</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<p>${o.older ? 'No older alerts.' : 'No alerts yet. When a slot near one of your watches comes free, it will be listed here.'}</p>`;
  return `<h1>Recent alerts</h1>
<section aria-labelledby="free" class="card"><h2 id="free">Free slots near your watches</h2>
<p>Slots we found for you in the last day that are still free. When you reach your daily limit of alert messages, new ones are listed here instead.</p>
${free}</section>
<section aria-labelledby="all-alerts"><h2 id="all-alerts">All your alerts</h2>
${list}
${o.nextBefore ? `<p><a href="/alerts?before=${e(o.nextBefore)}">Older alerts</a></p>` : ''}</section>`;
}

/** The slot behind an alert link, rendered whole so it shows before any script runs. */
export function slotBody(slot: SlotPage, signedIn: boolean): string {
  const when = `${londonDate(slot.startTime)} at ${londonTime(slot.startTime)}`;
  const type = slot.testType === 'theory' ? 'Theory test' : 'Practical test';
  const facts = `<dl class="facts">
  <dt>Centre</dt><dd>${e(slot.center.name)} (${e(slot.center.postcode)})</dd>
  <dt>Date</dt><dd>${e(londonDate(slot.startTime))}</dd>
  <dt>Time</dt><dd>${e(londonTime(slot.startTime))} to ${e(londonTime(slot.endTime))} (UK time)</dd>
  ${slot.distanceMiles !== null ? `<dt>Distance</dt><dd>${e(miles(slot.distanceMiles))} from your nearest watch</dd>` : ''}
</dl>`;
  const mine = slot.appointment;
  let action: string;
  if (mine?.status === 'CONFIRMED') {
    action = `<p class="done" id="slot-state">You have booked this slot.</p>`;
  } else if (mine?.status === 'HOLD') {
    action = `<p id="slot-state">You are holding this slot.</p>`;
  } else if (!slot.available) {
    action = `<p class="taken" id="slot-state">Sorry, this slot has been taken.</p>`;
  } else if (!signedIn) {
    action = `<p id="slot-state">This slot is free.</p>
<p><a class="button" href="/signin?next=${encodeURIComponent(`/slots/${slot.id}`)}">Sign in to hold it</a></p>`;
  } else {
    action = `<p id="slot-state">This slot is free.</p>
<button type="button" id="hold">Hold this slot</button>`;
  }
  const data = [
    `data-slot-id="${e(slot.id)}"`,
    `data-test-type="${e(slot.testType)}"`,
    `data-lat="${slot.center.latitude}"`,
    `data-lon="${slot.center.longitude}"`,
    `data-available="${slot.available}"`,
    mine ? `data-appointment-id="${e(mine.id)}" data-appointment-status="${e(mine.status)}" data-expires-at="${e(mine.expiresAt ?? '')}"` : '',
  ].join(' ');
  return `<h1>${e(type)}: ${e(when)}</h1>
<section id="slot" class="card" ${data}>
${facts}
${action}
<div id="hold-panel" hidden>
  <p>Held for you. <span id="countdown" role="timer" aria-atomic="true"></span></p>
  <button type="button" id="confirm">Confirm booking</button>
</div>
</section>
<section id="alternatives" aria-labelledby="alt-heading" hidden>
  <h2 id="alt-heading">Free slots nearby</h2>
  <div id="alt-list"></div>
</section>`;
}

/** A slot id that names no slot. */
export function noSlotBody(): string {
  return `<h1>Slot not found</h1><p>This link does not match any test slot. It may have been removed.</p><p><a href="/watches">Go to my watches</a></p>`;
}
