/** What an alert says, by email and by push. Times are shown in Europe/London. */
import { greetingName } from '../accounts/names.js';
import { escapeHtml } from '../html.js';
import { TEST_TYPE_NAMES } from '../slots/test-types.js';
import type { AlertContext } from './store.js';

const DATE = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

/** "Tuesday 15 July 2031": British order without the comma some ICU versions put after the weekday. */
function formatDate(d: Date): string {
  const parts = DATE.formatToParts(d);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}`;
}
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hour12: false });


export interface AlertFacts {
  center: string;
  testType: string;
  /** e.g. "Tuesday 14 January 2031" */
  date: string;
  /** e.g. "09:30", 24-hour, Europe/London */
  time: string;
  /** e.g. "3.2 miles away", or null when the distance is unknown */
  distance: string | null;
  holdUrl: string;
}

/** The facts a message states, formatted for people in Britain. */
export function alertFacts(c: Pick<AlertContext, 'centerName' | 'testType' | 'startTime' | 'distanceM' | 'slotId'>, publicBaseUrl: string): AlertFacts {
  return {
    center: c.centerName,
    testType: TEST_TYPE_NAMES[c.testType],
    date: formatDate(c.startTime),
    time: TIME.format(c.startTime),
    distance: c.distanceM === null ? null : `${(c.distanceM / 1609.344).toFixed(1)} miles away`,
    holdUrl: `${publicBaseUrl}/slots/${c.slotId}`,
  };
}

/** The one-click unsubscribe address of a watch (RFC 8058). */
export function unsubscribeUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}/unsubscribe/${token}`;
}

/** The learner's "Recent alerts" page, linked from every message. */
export function recentAlertsUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl}/alerts`;
}

/** The free slots near the learner's watches (on the same page), linked from the message that reaches the cap. */
export function freeSlotsUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl}/alerts#free`;
}

/** What every message adds at its foot: the alerts page, and the cap when this message reaches it. */
export interface MessageFooter {
  alertsUrl: string;
  /** Set on the message that brings the learner to their daily cap: where the free slots are listed. */
  capReached: { freeSlotsUrl: string } | null;
}

export function messageFooter(publicBaseUrl: string, reachesCap: boolean): MessageFooter {
  return { alertsUrl: recentAlertsUrl(publicBaseUrl), capReached: reachesCap ? { freeSlotsUrl: freeSlotsUrl(publicBaseUrl) } : null };
}

const CAP_TEXT = 'This is your last alert today: you have reached your daily limit. Until midnight (UK time) we will keep a list of new free slots near your watches for you:';

function footerText(f: MessageFooter): string[] {
  return [
    ...(f.capReached ? [CAP_TEXT, f.capReached.freeSlotsUrl, ''] : []),
    `Your recent alerts: ${f.alertsUrl}`,
  ];
}

function footerHtml(f: MessageFooter): string {
  const e = escapeHtml;
  return [
    f.capReached ? `<p><strong>${e(CAP_TEXT.split(':')[0]!)}.</strong> Until midnight (UK time) we keep a <a href="${e(f.capReached.freeSlotsUrl)}">list of new free slots near your watches</a> for you.</p>` : '',
    `<p style="font-size: small"><a href="${e(f.alertsUrl)}">Your recent alerts</a></p>`,
  ].join('\n');
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** Subject, plain-text and HTML bodies of an alert email. */
export function renderAlertEmail(f: AlertFacts, firstName: string | null, unsubscribe: string, footer: MessageFooter): EmailContent {
  // a name of one word only: "Hello Sam," and never a sentence of the user's in our voice
  const name = greetingName(firstName);
  const subject = `Test slot free: ${f.center}, ${f.date} at ${f.time}`;
  const where = f.distance ? `${f.center} (${f.distance})` : f.center;
  const text = [
    `Hello${name ? ' ' + name : ''},`,
    '',
    `A ${f.testType} slot has just become free:`,
    '',
    `  Centre: ${where}`,
    `  Date:   ${f.date}`,
    `  Time:   ${f.time} (UK time)`,
    '',
    `Hold it for five minutes before someone else does:`,
    f.holdUrl,
    '',
    'Slots like this go quickly; if it is gone when you open the link, we will tell you about the next one.',
    '',
    ...footerText(footer),
    `Stop alerts for this search: ${unsubscribe}`,
  ].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="en-GB"><body style="font-family: sans-serif; line-height: 1.4">
<p>Hello${name ? ' ' + e(name) : ''},</p>
<p>A ${e(f.testType)} slot has just become free:</p>
<table role="presentation">
<tr><th align="left">Centre</th><td>${e(where)}</td></tr>
<tr><th align="left">Date</th><td>${e(f.date)}</td></tr>
<tr><th align="left">Time</th><td>${e(f.time)} (UK time)</td></tr>
</table>
<p><a href="${e(f.holdUrl)}">Hold this slot for five minutes</a></p>
<p>Slots like this go quickly; if it is gone when you open the link, we will tell you about the next one.</p>
${footerHtml(footer)}
<p style="font-size: small"><a href="${e(unsubscribe)}">Stop alerts for this search</a></p>
</body></html>
`;
  return { subject, text, html };
}

export interface PushPayload {
  title: string;
  body: string;
  /** What a tap opens: the slot, or for a digest the learner's alerts. */
  url: string;
  /** The slot of a single alert; the slots of a digest, soonest first (at most DIGEST_LIST). */
  slotId: string | null;
  slotIds?: string[];
  /** The learner's recent alerts. */
  alertsUrl: string;
}

const CAP_PUSH = ' Daily alert limit reached: see your list of free slots.';

/** The JSON a browser's service worker receives. */
export function renderPushPayload(f: AlertFacts, slotId: string, footer: MessageFooter): PushPayload {
  return {
    title: `Test slot free: ${f.center}`,
    body: `${f.date} at ${f.time}${f.distance ? `, ${f.distance}` : ''}. Tap to hold it.${footer.capReached ? CAP_PUSH : ''}`,
    url: f.holdUrl,
    slotId,
    alertsUrl: footer.alertsUrl,
  };
}

/** Most slots a digest lists; the rest are "and N more", on the alerts page. */
export const DIGEST_LIST = 10;

function digestLine(f: AlertFacts): string {
  return `${f.center}, ${f.date} at ${f.time}${f.distance ? ` (${f.distance})` : ''}`;
}

/** A digest email: the slots soonest first, up to DIGEST_LIST, then "and N more" with a link to them all. */
export function renderDigestEmail(all: AlertFacts[], firstName: string | null, unsubscribe: string, footer: MessageFooter): EmailContent {
  const name = greetingName(firstName);
  const shown = all.slice(0, DIGEST_LIST);
  const more = all.length - shown.length;
  const subject = all.length === 1 ? `Test slot free: ${all[0]!.center}, ${all[0]!.date} at ${all[0]!.time}` : `${all.length} test slots free near you`;
  const text = [
    `Hello${name ? ' ' + name : ''},`,
    '',
    all.length === 1 ? 'Another slot has just become free:' : `${all.length} more slots have just become free:`,
    '',
    ...shown.flatMap((f) => [`  ${f.testType}: ${digestLine(f)} (UK time)`, `  Hold it: ${f.holdUrl}`, '']),
    ...(more > 0 ? [`And ${more} more: ${footer.alertsUrl}`, ''] : []),
    'Slots like these go quickly; if one is gone when you open its link, we will tell you about the next one.',
    '',
    ...footerText(footer),
    `Stop alerts for this search: ${unsubscribe}`,
  ].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="en-GB"><body style="font-family: sans-serif; line-height: 1.4">
<p>Hello${name ? ' ' + e(name) : ''},</p>
<p>${all.length === 1 ? 'Another slot has just become free:' : `${all.length} more slots have just become free:`}</p>
<ul>
${shown.map((f) => `<li>${e(f.testType)}: ${e(digestLine(f))} (UK time) <a href="${e(f.holdUrl)}">Hold it</a></li>`).join('\n')}
</ul>
${more > 0 ? `<p><a href="${e(footer.alertsUrl)}">And ${more} more</a></p>` : ''}
<p>Slots like these go quickly; if one is gone when you open its link, we will tell you about the next one.</p>
${footerHtml(footer)}
<p style="font-size: small"><a href="${e(unsubscribe)}">Stop alerts for this search</a></p>
</body></html>
`;
  return { subject, text, html };
}

/**
 * A digest push. Push services take at most 4 KB of encrypted payload; the body names
 * the first three slots and counts the rest, and at most DIGEST_LIST slot ids ride along,
 * which keeps it near 1 KB whatever the digest holds.
 */
export function renderDigestPush(all: AlertFacts[], slotIds: string[], footer: MessageFooter): PushPayload {
  const first = all.slice(0, 3).map((f) => `${f.center.slice(0, 60)}, ${f.date} ${f.time}`);
  const more = all.length - first.length;
  return {
    title: all.length === 1 ? `Test slot free: ${all[0]!.center.slice(0, 60)}` : `${all.length} test slots free near you`,
    body: `${first.join('; ')}${more > 0 ? ` and ${more} more` : ''}.${footer.capReached ? CAP_PUSH : ''}`,
    url: footer.alertsUrl,
    slotId: null,
    slotIds: slotIds.slice(0, DIGEST_LIST),
    alertsUrl: footer.alertsUrl,
  };
}
